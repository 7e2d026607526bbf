"""Checking a data folder: build every task's dataset for every split and collect what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from egot2.data.datasets import DATASETS, build_dataset
from egot2.data.layout import SPLITS, resolve_root


def check_data(root: str | Path, tasks: Sequence[str] = tuple(DATASETS), splits: Sequence[str] = SPLITS,
               *, skip_bad: bool = True) -> dict[str, dict[str, object]]:
    """Build each (task, split) dataset of ``root`` once; videos are probed and every item checked.

    Args:
        root: data folder.
        tasks: tasks to check.
        splits: splits to check (a missing annotation file is an error).
        skip_bad: record bad items instead of raising at the first one.

    Returns:
        ``{"<task>/<split>": {"items": n, "skipped": [(key, reason), ...]}}``.

    Raises:
        UserInputError: a missing or malformed annotation file; with ``skip_bad=False``, the first bad
            item (missing or truncated video, no audio stream, clip beyond the video's end).
    """
    data = resolve_root(root)
    report: dict[str, dict[str, object]] = {}
    for task in tasks:
        for split in splits:
            ds = build_dataset(task, data.root, split, skip_bad=skip_bad)
            report[f"{task}/{split}"] = {"items": len(ds), "skipped": [(s.key, s.reason) for s in ds.skipped]}
    return report
