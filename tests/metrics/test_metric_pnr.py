"""PNR keyframe error in seconds, hand-worked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from egot2.metrics import keyframe_fps, keyframe_index_from_logits, pnr_frame_from_index, pnr_keyframe_error


def test_fps_has_the_plus_one() -> None:
    # E - S = 240 frames over 8 s: (240 + 1) / 8 = 30.125, not 30.
    assert float(keyframe_fps(0, 240, 0.0, 8.0)) == 30.125


def test_error_uses_the_plus_one_fps() -> None:
    # S=0, E=240, 0..8 s, P=120; prediction 105 (= 240/16 * 7) -> |105 - 120| = 15 frames
    # 15 / 30.125 = 120/241 s (15/30 = .5 would be the error without the +1)
    err = pnr_keyframe_error([105.0], [0], [240], [0.0], [8.0], [120], [True])
    assert err == pytest.approx(120 / 241, abs=1e-12)
    assert err != pytest.approx(0.5, abs=1e-6)


def test_prediction_is_relative_to_the_parent_start_frame() -> None:
    # S=1000, E=1240, 100..108 s, P=1120: ground truth 120 frames after S; prediction 120 -> 0 error
    assert pnr_keyframe_error([120.0], [1000], [1240], [100.0], [108.0], [1120], [True]) == 0.0


def test_negatives_are_ignored_and_the_mean_is_per_clip() -> None:
    # clip 1: error 120/241 (as above); clip 2: S=1000, E=1240, P=1000, prediction 0 -> error 0
    # clip 3: no state change, predicted far away: skipped
    # mean over the two positives = 60/241
    err = pnr_keyframe_error(
        [105.0, 0.0, 9999.0], [0, 1000, 0], [240, 1240, 240], [0.0, 100.0, 0.0], [8.0, 108.0, 8.0],
        [120, 1000, np.nan], [True, True, False])
    assert err == pytest.approx(60 / 241, abs=1e-12)


def test_no_positive_clip_gives_nan() -> None:
    assert math.isnan(pnr_keyframe_error([1.0], [0], [240], [0.0], [8.0], [np.nan], [False]))


def test_submission_frame_and_argmax() -> None:
    # (E - S) / 16 * k = 240 / 16 * 7 = 105; argmax takes the first of equal maxima
    assert float(pnr_frame_from_index(7, 0, 240)) == 105.0
    assert keyframe_index_from_logits(np.array([[0.0, 2.0, 2.0, 1.0]])).tolist() == [1]
