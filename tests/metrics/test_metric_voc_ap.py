"""VOC AP, the two-class mAP of LAM/TTM and accuracy@0.5, on hand-worked cases."""

from __future__ import annotations

import math

import pytest

from egot2.metrics import accuracy_at_threshold, class_ap, ranked_ap, two_class_map, voc_ap


def test_voc_ap_makes_precision_monotone_and_sums_over_recall_changes() -> None:
    # r = [0, .5, 1, 1], p = [0, 1, .5, 0] -> right-to-left max: [1, 1, .5, 0]
    # recall changes at i=1 (0 -> .5) and i=2 (.5 -> 1): .5 * 1 + .5 * .5 = .75
    assert voc_ap([0.5, 1.0], [1.0, 0.5]) == pytest.approx(0.75, abs=1e-12)


def test_voc_ap_of_an_empty_curve_is_zero() -> None:
    # r = [0, 1], p = [0, 0]: one recall step of 1 at precision 0.
    assert voc_ap([], []) == 0.0


def test_class_ap_hand_worked() -> None:
    # ranked labels 1, 0, 1, 0: TP 1,1,2,2; precision 1, 1/2, 2/3, 1/2; recall .5, .5, 1, 1
    # smoothed precision at the recall steps: 1 (step to .5) and 2/3 (step to 1)
    # AP = .5 * 1 + .5 * 2/3 = 5/6
    assert class_ap([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx(5 / 6, abs=1e-12)


def test_ranked_ap_without_relevant_items_is_nan() -> None:
    assert math.isnan(ranked_ap([False, False], 0))
    assert math.isnan(class_ap([0.3, 0.6], [0, 0]))


def test_two_class_map_is_the_mean_of_both_class_aps_not_the_positive_ap() -> None:
    # scores .9 .8 .3, labels 0 1 0.
    # AP_1: ranked labels 0, 1, 0 -> TP 0,1,1; precision 0, .5, 1/3; recall 0, 1, 1
    #       smoothed precision at the recall step 0 -> 1 is .5 -> AP_1 = .5
    # AP_0: rank by 1 - score = .1 .2 .7 -> rows 3, 2, 1 with label-0 flags 1, 0, 1
    #       TP 1,1,2; precision 1, .5, 2/3; recall .5, .5, 1 -> AP_0 = .5 * 1 + .5 * 2/3 = 5/6
    # mAP = (1/2 + 5/6) / 2 = 2/3, while the positive-class AP alone would be 1/2.
    result = two_class_map([0.9, 0.8, 0.3], [0, 1, 0])
    assert result.ap_positive == pytest.approx(0.5, abs=1e-12)
    assert result.ap_negative == pytest.approx(5 / 6, abs=1e-12)
    assert result.map == pytest.approx(2 / 3, abs=1e-12)


def test_mixed_label_ties_keep_row_order() -> None:
    # Two rows with score .5, labels 0 then 1, kept in row order (stable sort).
    # AP_1: ranked 0, 1 -> precision 0, .5; recall 0, 1 -> AP_1 = .5
    # AP_0: 1 - score ties too, ranked label-0 flags 1, 0 -> precision 1, .5; recall 1, 1 -> AP_0 = 1
    result = two_class_map([0.5, 0.5], [0, 1])
    assert (result.ap_positive, result.ap_negative, result.map) == (0.5, 1.0, 0.75)


def test_two_class_map_is_nan_without_negatives() -> None:
    assert math.isnan(two_class_map([0.2, 0.7], [1, 1]).map)


def test_accuracy_counts_score_equal_to_threshold_as_positive() -> None:
    # .5 >= .5 is predicted positive: right for label 1, wrong for label 0.
    assert accuracy_at_threshold([0.5], [1]) == 1.0
    assert accuracy_at_threshold([0.5], [0]) == 0.0
    # .4999 is negative: right for label 0.
    assert accuracy_at_threshold([0.4999], [0]) == 1.0
    # scores .9 .8 .7 .6 all >= .5, labels 1 0 1 0 -> 2 of 4 right
    assert accuracy_at_threshold([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == 0.5
