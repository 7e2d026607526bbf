"""``evaluate(task, annotations, predictions)``: one entry point for every task's official metrics."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from egot2.data.annotations import load_lta_taxonomy
from egot2.errors import UserInputError
from egot2.evaluation.asd_task import evaluate_asd
from egot2.evaluation.checks import EvaluationWarning
from egot2.evaluation.clip_tasks import evaluate_ar, evaluate_lta, evaluate_oscc, evaluate_pnr
from egot2.evaluation.social_tasks import evaluate_lam, evaluate_ttm

Evaluator = Callable[..., tuple[dict[str, float], dict[str, int]]]

#: Task name -> evaluator, in the order the CLI lists them.
EVALUATORS: dict[str, Evaluator] = {
    "pnr": evaluate_pnr,
    "oscc": evaluate_oscc,
    "ar": evaluate_ar,
    "lta": evaluate_lta,
    "lam": evaluate_lam,
    "ttm": evaluate_ttm,
    "asd": evaluate_asd,
}
TASKS: tuple[str, ...] = tuple(EVALUATORS)
#: Tasks whose label ranges come from the LTA taxonomy.
TAXONOMY_TASKS = ("ar", "lta")


def evaluate(
    task: str,
    annotations_path: str | Path,
    predictions_path: str | Path,
    allow_extra: bool = False,
    taxonomy_path: str | Path | None = None,
) -> dict[str, Any]:
    """Score a predictions file against an Ego4D annotation file with the official metric of ``task``.

    Args:
        task: one of :data:`TASKS`.
        annotations_path: the Ego4D annotation file (fho_oscc-pnr for pnr/oscc, fho_lta for ar/lta,
            av for lam/ttm/asd).
        predictions_path: the predictions in the format of ``docs/metrics.md``.
        allow_extra: predictions for ids that are not annotated only raise an
            :class:`EvaluationWarning` (with their count) instead of an error.
        taxonomy_path: ``fho_lta_taxonomy.json`` for ar/lta label ranges (default: Ego4D v1 sizes).

    Returns:
        ``{"task": task, "metrics": {name: value}, "counts": {name: int}}``. A metric that is undefined
        on this data (e.g. an AP without any positive) is None, with an :class:`EvaluationWarning`.

    Raises:
        UserInputError: bad annotations or predictions (missing, duplicate or unknown predictions,
            malformed files, wrong shapes, out-of-range values), naming the file and the place.
    """
    evaluator = EVALUATORS.get(task)
    if evaluator is None:
        raise UserInputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    taxonomy = None
    if taxonomy_path is not None:
        if task not in TAXONOMY_TASKS:
            raise UserInputError(f"a taxonomy applies to {' and '.join(TAXONOMY_TASKS)} only, not {task}")
        taxonomy = load_lta_taxonomy(taxonomy_path)
    metrics, counts = evaluator(Path(annotations_path), Path(predictions_path), allow_extra=allow_extra,
                                taxonomy=taxonomy)
    clean: dict[str, float | None] = {}
    for name, value in metrics.items():
        if math.isnan(value):
            warnings.warn(EvaluationWarning(f"{task} {name} is undefined on these annotations "
                                            f"(no item of a class it needs); reported as null"), stacklevel=2)
            clean[name] = None
        else:
            clean[name] = float(value)
    return {"task": task, "metrics": clean, "counts": {k: int(v) for k, v in counts.items()}}
