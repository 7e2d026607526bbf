"""``egot2 evaluate``: official Ego4D metrics of a predictions file against an annotation file.

:func:`evaluate` reads the annotations (:mod:`egot2.data.annotations`) and the predictions, checks
them (missing, duplicate and unknown predictions, shapes, ranges) and computes the metrics with
:mod:`egot2.metrics`. Formats and deviations from the official code: ``docs/metrics.md``.
"""

from __future__ import annotations

from egot2.evaluation.api import EVALUATORS, TASKS, evaluate
from egot2.evaluation.checks import EvaluationWarning

__all__ = ["EVALUATORS", "TASKS", "EvaluationWarning", "evaluate"]
