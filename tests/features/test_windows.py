"""The window planner against hand-computed plans."""

from __future__ import annotations

import pytest

from egot2.errors import UserInputError
from egot2.features.windows import (
    Window,
    plan_model,
    precomputed_feature_windows,
    sample_frames,
    spread_windows,
    windows_for_stride,
)
from egot2.tasks import get_task


def test_ar_on_a_pnr_clip_one_centred_window() -> None:
    # AR's window is 64/30 s = 2.1333 s; centred in 8 s: starts at (8 - 2.1333) / 2 = 2.9333 s = frame 88.
    plan = plan_model(get_task("pnr"), get_task("ar"))
    assert plan.excluded is None and len(plan.windows) == 1
    assert plan.windows[0].start_s == pytest.approx(2.93333, abs=1e-4)
    # 32 frames at 15 fps from frame 88: 88, 90, ..., 150 (every second frame of the 30 fps video).
    assert plan.frames[0] == tuple(range(88, 152, 2))


def test_ar_slides_with_a_stride() -> None:
    # 8 s clip, 2.1333 s window, stride 2 s: starts 0, 2, 4 (4 + 2.13 = 6.13 <= 8; 6 + 2.13 > 8), then one
    # window ending at 8 s (start 5.8667 s).
    plan = plan_model(get_task("pnr"), get_task("ar"), stride_s=2.0)
    starts = [round(w.start_s, 4) for w in plan.windows]
    assert starts == [0.0, 2.0, 4.0, 5.8667]
    assert plan.frames[1][:3] == (60, 62, 64)


def test_pnr_model_on_its_own_clip() -> None:
    plan = plan_model(get_task("pnr"), get_task("pnr"))
    # 16 frames at 2 fps over 8 s: every 15th frame of the 30 fps video.
    assert plan.frames[0] == tuple(range(0, 240, 15))


def test_longer_model_is_excluded_with_reason() -> None:
    plan = plan_model(get_task("pnr"), get_task("lta"))
    assert plan.windows == () and "longer than a pnr clip" in (plan.excluded or "")


def test_lam_slides_over_a_ttm_segment() -> None:
    # LAM takes 7 frames (7/30 s). A 1 s segment with windows every 7/30 s: 4 windows (0, 7, 14, 21 frames),
    # then one ending at frame 30 (start frame 23).
    plan = plan_model(get_task("ttm"), get_task("lam"), clip_s=1.0, stride_s=7 / 30)
    assert [w.start_s * 30 for w in plan.windows] == pytest.approx([0, 7, 14, 21, 23])
    assert plan.frames[0] == (0, 1, 2, 3, 4, 5, 6)


def test_any_length_model_sees_the_whole_clip() -> None:
    plan = plan_model(get_task("ttm"), get_task("asd"), clip_s=0.5)
    assert plan.windows == (Window(0.0, 0.5),) and plan.frames[0] == tuple(range(15))


def test_spread_windows() -> None:
    assert spread_windows(8.0, 2.0, 3) == [Window(0.0, 2.0), Window(3.0, 5.0), Window(6.0, 8.0)]
    with pytest.raises(UserInputError):
        spread_windows(8.0, 2.0, 0)


def test_stride_errors() -> None:
    with pytest.raises(UserInputError, match="stride"):
        windows_for_stride(8.0, 2.0, 0.0)
    with pytest.raises(UserInputError, match="longer than the clip"):
        windows_for_stride(1.0, 2.0, 1.0)


def test_sample_frames_resamples() -> None:
    # A 10 fps model over [1 s, 2 s) of a 30 fps video: frames 30, 33, ..., 57.
    assert sample_frames(Window(1.0, 2.0), 10.0, None) == tuple(range(30, 60, 3))


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (20, [(0, 20)]),  # shorter than one window
        (32, [(0, 32)]),  # exactly one window
        (64, [(0, 32), (16, 48), (32, 64)]),  # (64 - 32) // 16 + 1 = 3, no remainder
        (70, [(0, 32), (16, 48), (32, 64), (38, 70)]),  # remainder 6: a final window moved back to end at 70
    ],
)
def test_precomputed_feature_windows(n: int, expected: list[tuple[int, int]]) -> None:
    assert precomputed_feature_windows(n) == expected


def test_stride_windows_keep_the_planned_count() -> None:
    from egot2.features.windows import stride_count, stride_windows

    pnr, ar = get_task("pnr"), get_task("ar")
    span = ar.window_s
    assert stride_count(pnr, ar, 2.0) == 4  # 0, 2, 4, then one ending at 8 s (see above)
    assert stride_windows(8.0, span, 2.0, 4) == windows_for_stride(8.0, span, 2.0)
    assert stride_windows(8.0, span, 3.0, stride_count(pnr, ar, 3.0)) == windows_for_stride(8.0, span, 3.0)
    short = stride_windows(7.5, span, 2.0, 4)  # a clip a little shorter: as many windows, none past its end
    assert [round(w.start_s, 4) for w in short] == [0.0, 2.0, 4.0, round(7.5 - span, 4)]
    assert all(w.end_s <= 7.5 + 1e-9 for w in short)
    plan = plan_model(pnr, ar, clip_s=8.5, stride_s=2.0, count=4)
    assert len(plan.windows) == 4 and plan.windows[-1].end_s == pytest.approx(8.5)


def test_layout_with_a_stride() -> None:
    from egot2.translator import plan_streams

    tokens = {s.key: s.tokens for s in plan_streams("pnr", strides={"ar": 2.0})}
    assert tokens["ar.slow"] == tokens["ar.fast"] == 4 * 8  # 8 tokens per window and stream
    with pytest.raises(UserInputError, match="windows or a stride for 'ar', not both"):
        plan_streams("pnr", windows={"ar": 3}, strides={"ar": 2.0})
