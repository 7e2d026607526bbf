"""Action recognition top-k accuracy (verb and noun heads are scored independently)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def top1_accuracy(pred_ids: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of items whose predicted class id equals the label.

    Args:
        pred_ids: (N,) predicted class ids.
        labels: (N,) ground-truth class ids.

    Returns:
        The accuracy in [0, 1], or NaN for no items.
    """
    pred = np.asarray(pred_ids, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    if pred.shape != y.shape:
        raise ValueError(f"predictions {pred.shape} and labels {y.shape} differ in shape")
    if y.size == 0:
        return float("nan")
    return int(np.count_nonzero(pred == y)) / y.size


def topk_accuracy(scores: ArrayLike, labels: ArrayLike, k: int = 1) -> float:
    """Fraction of items whose label is among the ``k`` highest scores.

    Equal scores are ranked by class id (the lower id first), so a tie at the k-th place is resolved
    deterministically.

    Args:
        scores: (N, C) class scores (logits or probabilities).
        labels: (N,) ground-truth class ids.
        k: how many top classes count as a hit.

    Returns:
        The accuracy in [0, 1], or NaN for no items.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if s.ndim != 2 or s.shape[0] != y.shape[0]:
        raise ValueError(f"scores must be (N, C) with N = {y.shape[0]} labels, got {s.shape}")
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be in 1..{s.shape[1]}, got {k}")
    if y.size == 0:
        return float("nan")
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]  # (N, k)
    return int(np.count_nonzero((top == y[:, None]).any(axis=1))) / y.size
