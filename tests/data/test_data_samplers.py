"""Clip samplers against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from egot2.data.samplers import (
    ar_frame_indices,
    chunk_positions,
    nearest_index,
    pnr_frame_indices,
    slow_indices,
    ttm_pieces,
    window_around,
)
from egot2.errors import UserInputError


def test_pnr_8s_clip_at_30fps_steps_by_15() -> None:
    # 240 frames: floor = ceil = 15; the multiples of 15 in [0, 240).
    assert pnr_frame_indices(0, 240) == [15 * k for k in range(16)]


def test_pnr_divisibility_counts_absolute_frame_numbers() -> None:
    # [7, 247): multiples of 15 from 15 on, not 7 + 15 k.
    assert pnr_frame_indices(7, 247) == [15 * k for k in range(1, 17)]


def test_pnr_uses_ceil_when_it_gives_16_frames() -> None:
    # 250 frames: ceil(250/16) = 16 -> 0, 16, ..., 240 (16 frames); floor would give 15.
    assert pnr_frame_indices(0, 250) == [16 * k for k in range(16)]


def test_pnr_falls_back_to_floor() -> None:
    # [5, 246): 241 frames, ceil 16 gives only 16..240 (15 frames) -> floor 15 gives 15..240.
    assert pnr_frame_indices(5, 246) == [15 * k for k in range(1, 17)]


def test_pnr_too_short_clip_is_an_error() -> None:
    with pytest.raises(UserInputError, match="16 frames"):
        pnr_frame_indices(0, 10)


def test_pnr_label_is_the_nearest_sampled_frame_first_on_tie() -> None:
    frames = pnr_frame_indices(0, 240)
    assert nearest_index(frames, 22) == 1  # |22 - 15| = 7 < |22 - 30| = 8
    assert nearest_index(frames, 23) == 2
    assert nearest_index([0, 10], 5) == 0
    assert nearest_index(frames, 239) == 15


def test_ar_window_is_centred_with_rate_2() -> None:
    # 100 frames, window 64: first = 100 + (100 - 64) // 2 = 118.
    assert ar_frame_indices(100, 200) == list(range(118, 182, 2))


def test_ar_random_window_stays_inside_the_action() -> None:
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(50):
        idx = ar_frame_indices(100, 200, mode="random", rng=rng)
        assert len(idx) == 32 and idx[0] >= 100 and idx[-1] <= 199 and np.all(np.diff(idx) == 2)
        starts.add(idx[0])
    assert len(starts) > 5


def test_ar_short_action_is_spread_evenly() -> None:
    idx = ar_frame_indices(10, 50)  # 40 frames < 64
    assert len(idx) == 32 and idx[0] == 10 and idx[-1] == 49 and np.all(np.diff(idx) >= 0)


def test_slow_pathway_positions() -> None:
    assert slow_indices(32, 4) == [0, 4, 8, 13, 17, 22, 26, 31]


def test_lam_window_is_clamped_to_the_track() -> None:
    assert window_around(10, 0, 100) == [7, 8, 9, 10, 11, 12, 13]
    assert window_around(5, 3, 100) == [3, 3, 4, 5, 6, 7, 8]
    assert window_around(99, 0, 100) == [96, 97, 98, 99, 100, 100, 100]


def test_asd_chunks_by_list_position() -> None:
    assert chunk_positions(0, 649, 650) == [range(0, 300), range(300, 600), range(600, 650)]
    # frames 0..899 span 3 chunks but only 400 boxes: the third chunk is empty and dropped
    assert chunk_positions(0, 899, 400) == [range(0, 300), range(300, 400)]
    # a one-box chunk is dropped
    assert chunk_positions(0, 300, 301) == [range(0, 300)]


def test_ttm_pieces() -> None:
    assert ttm_pieces(10, 100, train=True) == [(10, 100)]
    assert ttm_pieces(0, 9, train=True) == []  # 10 frames < 15 in training
    assert ttm_pieces(0, 9, train=False) == [(0, 9)]
    assert ttm_pieces(0, 399, train=False) == [(0, 149), (150, 299)]
    assert ttm_pieces(5, 5, train=False) == []
