"""Torch datasets per task, over an Ego4D download or a world written by ``egot2 synth``.

:func:`build_dataset` is the entry point; :func:`egot2.data.collate.collate` batches the items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from egot2.data.datasets.base import ClipDataset, ClipItem, Skipped
from egot2.data.datasets.hoi import ArDataset, LtaDataset, PnrOsccDataset
from egot2.data.datasets.social import AsdDataset, LamDataset, TtmDataset
from egot2.errors import UserInputError

DATASETS: dict[str, type[ClipDataset]] = {
    "pnr": PnrOsccDataset, "oscc": PnrOsccDataset, "ar": ArDataset, "lta": LtaDataset,
    "lam": LamDataset, "ttm": TtmDataset, "asd": AsdDataset,
}


def build_dataset(task: str, root: str | Path, split: str, **options: Any) -> ClipDataset:
    """The dataset of ``task`` over the data folder ``root`` and ``split`` (``train``, ``val``, ``test``).

    ``options`` go to the task's class (``skip_bad``, ``transform``, ``profile``, ...); an option the
    class does not take is an error.
    """
    if task not in DATASETS:
        raise UserInputError(f"no dataset for task {task!r}; valid: {', '.join(DATASETS)}", field="task")
    cls = DATASETS[task]
    if cls is PnrOsccDataset:
        options["task"] = task
    try:
        return cls(root, split, **options)
    except TypeError as exc:
        raise UserInputError(f"bad dataset option for {task}: {exc}", field="options") from None


def skip_report(datasets: list[ClipDataset]) -> str:
    """Every skipped item of ``datasets`` with its reason ("" when none)."""
    return "\n".join(r for r in (d.skip_report() for d in datasets) if r)


__all__ = ["DATASETS", "ArDataset", "AsdDataset", "ClipDataset", "ClipItem", "LamDataset", "LtaDataset",
           "PnrOsccDataset", "Skipped", "TtmDataset", "build_dataset", "skip_report"]
