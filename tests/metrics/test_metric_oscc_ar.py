"""OSCC accuracy and AR top-k accuracy, hand-worked."""

from __future__ import annotations

import numpy as np
import pytest

from egot2.metrics import oscc_accuracy, state_change_from_logits, top1_accuracy, topk_accuracy


def test_oscc_accuracy_counts_positives_and_negatives() -> None:
    # pred T F T F vs gt T T F F: clips 1 and 4 right -> 2/4
    assert oscc_accuracy([True, False, True, False], [True, True, False, False]) == 0.5


def test_oscc_logit_tie_goes_to_no_change() -> None:
    assert state_change_from_logits(np.array([[0.3, 0.3], [0.1, 0.9], [0.9, 0.1]])).tolist() == [False, True, False]


def test_top1_accuracy() -> None:
    # 1 = 1, 2 != 0, 3 = 3 -> 2/3
    assert top1_accuracy([1, 2, 3], [1, 0, 3]) == pytest.approx(2 / 3, abs=1e-15)


def test_topk_accuracy_from_scores() -> None:
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    labels = [2, 1]
    # k=1: row 0 top class 1 (label 2: miss); row 1 top class 2 (label 1: miss) -> 0
    assert topk_accuracy(scores, labels, k=1) == 0.0
    # k=2: row 0 {1, 2} hit; row 1 {2, 0} (the tie .3/.3 goes to the lower id 0) miss -> 1/2
    assert topk_accuracy(scores, labels, k=2) == 0.5
    # k=3: everything -> 1
    assert topk_accuracy(scores, labels, k=3) == 1.0


def test_topk_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        topk_accuracy(np.zeros((1, 3)), [0], k=4)
