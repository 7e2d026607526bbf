"""OSCC (object state change classification) accuracy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def state_change_from_logits(logits: ArrayLike) -> np.ndarray:
    """Predicted state change from 2-way logits ``[no change, change]``: argmax, a tie going to "no change".

    Args:
        logits: (N, 2) logits or probabilities.

    Returns:
        (N,) booleans.
    """
    return np.argmax(np.asarray(logits), axis=-1) == 1


def oscc_accuracy(pred_state_change: ArrayLike, gt_state_change: ArrayLike) -> float:
    """Fraction of clips whose predicted state change equals the ground truth (positives and negatives).

    Args:
        pred_state_change: (N,) predicted booleans.
        gt_state_change: (N,) ground-truth booleans.

    Returns:
        The accuracy, or NaN for no clips.
    """
    pred = np.asarray(pred_state_change, dtype=bool)
    gt = np.asarray(gt_state_change, dtype=bool)
    if pred.shape != gt.shape:
        raise ValueError(f"predictions {pred.shape} and labels {gt.shape} differ in shape")
    if gt.size == 0:
        return float("nan")
    return int(np.count_nonzero(pred == gt)) / gt.size
