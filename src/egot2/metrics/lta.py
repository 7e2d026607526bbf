"""LTA edit distance ED@Z and AUED (Ego4D forecasting ``lta_metrics``).

The distance is plain Levenshtein (insertion, deletion and substitution cost 1; an adjacent swap costs
2), although the official docstring says Damerau-Levenshtein. Verb and noun sequences are scored with
separate calls, so each head takes its own best of the K candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import editdistance
import numpy as np
from numpy.typing import ArrayLike


def levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Plain Levenshtein distance between two sequences of class ids (no transpositions)."""
    return int(editdistance.eval(list(a), list(b)))


def _check(preds: np.ndarray, labels: np.ndarray) -> None:
    if preds.ndim != 3 or labels.ndim != 2 or preds.shape[0] != labels.shape[0] or preds.shape[2] != labels.shape[1]:
        raise ValueError(f"expected preds (N, K, Z) and labels (N, Z), got {preds.shape} and {labels.shape}")
    if preds.shape[1] < 1 or preds.shape[2] < 1:
        raise ValueError(f"need K >= 1 candidates and Z >= 1 steps, got {preds.shape}")


def min_edit_distances(preds: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """Per item, the smallest normalised distance ``Levenshtein(candidate_k, label) / Z`` over the K candidates.

    Args:
        preds: (N, K, Z) candidate sequences of one head.
        labels: (N, Z) ground-truth sequences of that head.

    Returns:
        (N,) distances in [0, 1].
    """
    p = np.asarray(preds, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    _check(p, y)
    z = y.shape[1]
    out = np.empty(y.shape[0], dtype=np.float64)
    for n in range(y.shape[0]):
        target = y[n].tolist()
        out[n] = min(editdistance.eval(cand, target) / z for cand in p[n].tolist())
    return out


def edit_distance_at_z(preds: ArrayLike, labels: ArrayLike) -> float:
    """ED@Z: the mean over items of :func:`min_edit_distances` (per-item mean, not a mean of batch means).

    Args:
        preds: (N, K, Z) candidate sequences of one head.
        labels: (N, Z) ground-truth sequences of that head.

    Returns:
        The mean distance, or NaN for no items.
    """
    d = min_edit_distances(preds, labels)
    return float(np.mean(d)) if d.size else float("nan")


def prefix_edit_distances(preds: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """ED_z for z = 1..Z: :func:`edit_distance_at_z` of the first z steps, each normalised by z.

    Args:
        preds: (N, K, Z) candidate sequences of one head.
        labels: (N, Z) ground-truth sequences of that head.

    Returns:
        (Z,) distances; the last entry is ED@Z.
    """
    p = np.asarray(preds, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    _check(p, y)
    return np.array([edit_distance_at_z(p[:, :, :z], y[:, :z]) for z in range(1, y.shape[1] + 1)])


def aued(preds: ArrayLike, labels: ArrayLike) -> float:
    """AUED: the trapezoid area under :func:`prefix_edit_distances` (unit spacing) divided by Z - 1.

    Args:
        preds: (N, K, Z) candidate sequences of one head, Z >= 2.
        labels: (N, Z) ground-truth sequences of that head.
    """
    ed = prefix_edit_distances(preds, labels)
    if ed.size < 2:
        raise ValueError("AUED needs Z >= 2 steps")
    return float(((ed[1:] + ed[:-1]) / 2.0).sum() / (ed.size - 1))
