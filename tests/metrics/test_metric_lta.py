"""LTA ED@Z, AUED and the evaluated windows, hand-worked."""

from __future__ import annotations

import numpy as np
import pytest

from egot2.data.annotations import LtaAction
from egot2.metrics import (
    aued,
    edit_distance_at_z,
    levenshtein,
    lta_windows,
    min_edit_distances,
    prefix_edit_distances,
)


def test_levenshtein_not_damerau() -> None:
    # one adjacent swap = 2 substitutions (Damerau-Levenshtein would say 1)
    assert levenshtein([1, 2, 3, 4], [2, 1, 3, 4]) == 2


def test_levenshtein_uses_insertions_and_deletions() -> None:
    # drop 1, append 4 -> 2 (position-wise mismatches would be 3)
    assert levenshtein([1, 2, 3], [2, 3, 4]) == 2


def test_ed_is_the_minimum_over_candidates_normalised_by_z() -> None:
    preds = np.array([[[1, 2, 3, 4], [1, 9, 9, 4]]])  # (N=1, K=2, Z=4)
    labels = np.array([[1, 2, 9, 4]])  # candidate 0: 1 substitution; candidate 1: 1 substitution too
    assert min_edit_distances(preds, labels).tolist() == [0.25]
    # a second item with the best candidate at distance 2/4 -> mean (.25 + .5) / 2 = .375
    preds2 = np.array([[[1, 2, 3, 4], [1, 9, 9, 4]], [[5, 5, 5, 5], [7, 7, 5, 5]]])
    labels2 = np.array([[1, 2, 9, 4], [7, 7, 7, 7]])
    assert edit_distance_at_z(preds2, labels2) == pytest.approx(0.375, abs=1e-15)


def test_verb_and_noun_are_minimised_independently() -> None:
    # verbs: candidate 0 is perfect, candidate 1 all wrong; nouns: the other way round.
    verbs = np.array([[[1, 2, 3, 4], [9, 9, 9, 9]]])
    nouns = np.array([[[9, 9, 9, 9], [5, 6, 7, 8]]])
    # each head takes its own best candidate: both 0 (one joint candidate would give 1 on one head)
    assert edit_distance_at_z(verbs, np.array([[1, 2, 3, 4]])) == 0.0
    assert edit_distance_at_z(nouns, np.array([[5, 6, 7, 8]])) == 0.0


def test_aued_hand_worked() -> None:
    # prediction 1 2 3 vs truth 1 3 3:
    # ED_1 = lev([1],[1]) / 1 = 0; ED_2 = lev([1,2],[1,3]) / 2 = .5; ED_3 = lev([1,2,3],[1,3,3]) / 3 = 1/3
    # AUED = trapezoid (0 + .5)/2 + (.5 + 1/3)/2 = 1/4 + 5/12 = 2/3, divided by Z - 1 = 2 -> 1/3
    preds, labels = np.array([[[1, 2, 3]]]), np.array([[1, 3, 3]])
    assert prefix_edit_distances(preds, labels) == pytest.approx([0.0, 0.5, 1 / 3], abs=1e-15)
    assert aued(preds, labels) == pytest.approx(1 / 3, abs=1e-15)


def test_shape_errors() -> None:
    with pytest.raises(ValueError):
        edit_distance_at_z(np.zeros((2, 5, 20)), np.zeros((2, 19)))


def _action(clip: str, idx: int) -> LtaAction:
    return LtaAction(clip, "v", idx, 0.0, 1.0, 0, 30, verb_label=idx % 7, noun_label=idx % 11)


def test_windows_per_clip_sorted_with_key_of_last_input() -> None:
    # clip "a": 23 actions with action_idx 0, 2, ..., 44 given in reverse order -> 23 - 22 + 1 = 2 windows
    # window 0: inputs idx 0, 2 (key a_2), future idx 4..42; window 1: inputs 2, 4 (key a_4), future 6..44
    # clip "b": 21 actions -> no window (needs 22)
    actions = [_action("a", 2 * i) for i in reversed(range(23))] + [_action("b", i) for i in range(21)]
    windows = lta_windows(actions)
    assert [w.key for w in windows] == ["a_2", "a_4"]
    assert [a.action_idx for a in windows[0].inputs] == [0, 2]
    assert [a.action_idx for a in windows[0].future] == list(range(4, 43, 2))
    assert [a.action_idx for a in windows[1].future] == list(range(6, 45, 2))
    assert windows[1].future_verbs == [i % 7 for i in range(6, 45, 2)]
