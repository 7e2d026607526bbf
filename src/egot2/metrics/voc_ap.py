"""VOC all-point average precision and the two-class mAP of the Ego4D social benchmarks (LAM, TTM).

The same :func:`voc_ap` serves the ASD detection mAP (:mod:`egot2.metrics.asd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def voc_ap(recall: ArrayLike, precision: ArrayLike) -> float:
    """VOC all-point interpolated AP of a precision/recall curve given rank by rank.

    Recall 0 and precision 0 are prepended, recall 1 and precision 0 appended, precision is made
    non-increasing from right to left, and ``(r[i] - r[i-1]) * p[i]`` is summed over the indices where
    recall changes. An empty curve gives 0.

    Args:
        recall: (N,) recall after each rank.
        precision: (N,) precision after each rank.
    """
    r = np.concatenate(([0.0], np.asarray(recall, dtype=np.float64), [1.0]))
    p = np.concatenate(([0.0], np.asarray(precision, dtype=np.float64), [0.0]))
    p = np.maximum.accumulate(p[::-1])[::-1]
    changed = np.flatnonzero(r[1:] != r[:-1]) + 1
    return float(np.sum((r[changed] - r[changed - 1]) * p[changed]))


def ranked_ap(is_hit: ArrayLike, num_relevant: int) -> float:
    """VOC AP of a ranked list: precision = hits(r)/r, recall = hits(r)/num_relevant.

    Args:
        is_hit: (N,) booleans in rank order (best first).
        num_relevant: the recall denominator (e.g. the number of ground-truth positives).

    Returns:
        The AP, or NaN when ``num_relevant`` is 0 (AP undefined).
    """
    hits = np.cumsum(np.asarray(is_hit, dtype=np.int64))
    if num_relevant <= 0:
        return float("nan")
    ranks = np.arange(1, hits.size + 1)
    return voc_ap(hits / num_relevant, hits / ranks)


def class_ap(scores: ArrayLike, labels: ArrayLike) -> float:
    """AP of the rows labelled 1 when ranked by ``scores``, descending.

    Ties keep the order of the input rows (a stable sort), so the result is deterministic; the official
    code's unstable pandas sort leaves mixed-label ties undefined.

    Args:
        scores: (N,) scores, higher = more likely label 1.
        labels: (N,) 0/1 labels.

    Returns:
        The AP, or NaN when no row is labelled 1.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    order = np.argsort(-s, kind="stable")
    return ranked_ap(y[order], int(y.sum()))


@dataclass(frozen=True)
class TwoClassAP:
    """Result of :func:`two_class_map`.

    Args:
        ap_positive: AP of label 1 ranked by score.
        ap_negative: AP of label 0 ranked by ``1 - score``.
        map: their mean (NaN when either is undefined).
    """

    ap_positive: float
    ap_negative: float
    map: float


def two_class_map(scores: ArrayLike, labels: ArrayLike) -> TwoClassAP:
    """The LAM/TTM mAP: the mean of the positive-class AP and the negative-class AP.

    AP_1 ranks rows by ``score`` and scores label 1; AP_0 ranks by ``1 - score`` (computed in float64,
    as the official code does, so scores that round to the same ``1 - score`` tie) and scores label 0.
    Ties keep the input row order.

    Args:
        scores: (N,) probabilities of label 1, in row order.
        labels: (N,) 0/1 ground truth, in row order.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64)
    ap1 = class_ap(s, y)
    ap0 = class_ap(1.0 - s, 1 - y)
    return TwoClassAP(ap_positive=ap1, ap_negative=ap0, map=float(np.mean([ap0, ap1])))


def accuracy_at_threshold(scores: ArrayLike, labels: ArrayLike, threshold: float = 0.5) -> float:
    """Fraction of rows with ``(score >= threshold) == (label == 1)``; a score equal to the threshold is positive.

    Args:
        scores: (N,) probabilities of label 1.
        labels: (N,) 0/1 ground truth.

    Returns:
        The accuracy, or NaN for no rows.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    if s.size == 0:
        return float("nan")
    return float(np.mean((s >= threshold) == y))
