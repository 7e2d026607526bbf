"""One task's prediction file of a trained run, written and scored: what ``egot2 eval`` reports per task.

The file is written in the format of :mod:`egot2.evaluation.submission`. When the split is labelled and
the data folder holds its annotation file, the file itself is scored with :func:`egot2.evaluation.evaluate`
(``scored_by: "evaluate"``); a labelled split without annotations is scored from the cached labels
(``"cache"``); a test split is only written (``metrics`` empty, ``scored_by`` null).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from egot2.errors import UserInputError
from egot2.evaluation import submission
from egot2.tasks import get_task
from egot2.training.scoring import score


def task_predictions_path(folder: str | Path, task: str, split: str) -> Path:
    """A run answering several tasks (EgoT2-g): ``FOLDER/predictions_<task>_<split>.<json|csv>``."""
    return Path(folder) / f"predictions_{task}_{split}.{submission.SUFFIX[task]}"


def write_and_score(
    task: str,
    split: str,
    outputs: Sequence[Mapping[str, Tensor]],
    labels: Sequence[Mapping[str, Tensor]],
    infos: Sequence[Mapping[str, Any]],
    ids: Sequence[str],
    path: Path | None,
    data: str | Path | None,
    explicit: bool = False,
    source: str = "cache",
) -> dict[str, Any]:
    """Write ``task``'s prediction file to ``path`` and score it.

    Args:
        task: the task the outputs answer.
        split: ``val``, ``train`` or ``test`` (unlabelled: written, not scored).
        outputs, labels, infos, ids: the model's outputs per batch, the cached labels per batch, and each
            clip's cached info and id, in one order.
        path: where to write (None: a task without a prediction format, scored from the cache).
        data: the data folder holding the annotation files (None: score from the cache).
        explicit: the user named the path, so a file that cannot be written is an error, not a warning.
        source: ``scored_by`` when a labelled split is scored without the annotation file (where the
            labels came from: ``cache``, or ``online`` for a run whose TS models ran again).

    Returns:
        ``{"task", "split", "metrics", "predictions", "scored_by"}`` (plus ``"annotations"`` when the file
        was scored with the official evaluator).
    """
    from egot2.evaluation import evaluate

    labelled = split != "test"
    annotations = submission.find_annotations(task, split, data)
    written: Path | None = None
    if path is not None:
        try:
            written = submission.write_predictions(task, outputs, infos, ids, path,
                                                   cover=submission.annotated_ids(task, annotations, split))
        except UserInputError as exc:
            if explicit:
                raise
            warnings.warn(f"no {task} prediction file written: {exc}", stacklevel=2)
    result: dict[str, Any] = {"task": task, "split": split, "metrics": {},
                              "predictions": str(written) if written else None, "scored_by": None}
    if labelled and annotations is not None and written is not None:
        try:
            official = evaluate(task, annotations, written)
        except UserInputError as exc:
            raise UserInputError(f"official evaluation against {annotations} failed (does the cache hold every "
                                 f"annotated item?): {exc.detail}", file=exc.file, field=exc.field) from None
        result.update(metrics=official["metrics"], scored_by="evaluate", annotations=str(annotations))
    elif labelled:
        result.update(metrics=score(get_task(task), outputs, labels, infos), scored_by=source)
    return result
