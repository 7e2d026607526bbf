"""The window planner (paper Sec. 4.1, "Implementation Details").

For a primary clip and each TS model: frames are resampled to the model's fps; a model whose span is
shorter than the clip slides over it (window = its span; stride a hyperparameter, or a number of evenly
spread windows) and its tokens are concatenated in time; a model whose span is longer is excluded (and
the plan says why); a model that accepts any length sees the whole clip. Everything is deterministic:
no random window placement, at training or validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from egot2.errors import UserInputError
from egot2.tasks import TaskSpec

CANONICAL_FPS = 30.0


@dataclass(frozen=True)
class Window:
    """One placement of a TS model on the primary clip, in seconds from the clip start."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class ModelPlan:
    """How one TS model runs over one primary clip.

    Args:
        task: the TS model's task.
        fps: the rate its frames are sampled at.
        windows: its placements (empty when excluded).
        frames: per window, the frame indices of the canonical video relative to the clip start.
        excluded: why the model is not used, or None.
    """

    task: str
    fps: float
    windows: tuple[Window, ...]
    frames: tuple[tuple[int, ...], ...]
    excluded: str | None = None


def windows_for_stride(clip_s: float, window_s: float, stride_s: float) -> list[Window]:
    """Windows of ``window_s`` every ``stride_s`` from the clip start; if the last one stops short of the
    clip end, one more window is placed ending exactly at the clip end (so the whole clip is covered)."""
    if stride_s <= 0:
        raise UserInputError(f"stride must be > 0 s, got {stride_s}", field="stride_s")
    if window_s > clip_s + 1e-9:
        raise UserInputError(f"window {window_s:.3f} s is longer than the clip {clip_s:.3f} s", field="window_s")
    count = int(math.floor((clip_s - window_s) / stride_s + 1e-9)) + 1
    out = [Window(i * stride_s, i * stride_s + window_s) for i in range(count)]
    if out[-1].end_s < clip_s - 1e-9:
        out.append(Window(clip_s - window_s, clip_s))
    return out


def stride_windows(clip_s: float, window_s: float, stride_s: float, count: int) -> list[Window]:
    """``count`` windows of ``window_s``: every ``stride_s`` from the clip start, the last one ending at the
    clip end (never past it). On a clip of the span the count was planned for (:func:`stride_count`) these
    are :func:`windows_for_stride`'s; a clip a little shorter or longer keeps the count, so every clip gives
    a model as many tokens."""
    if stride_s <= 0:
        raise UserInputError(f"stride must be > 0 s, got {stride_s}", field="window_stride")
    last = max(clip_s - window_s, 0.0)
    starts = [min(i * stride_s, last) for i in range(count - 1)] + [last]
    return [Window(a, a + min(window_s, clip_s)) for a in starts]


def stride_count(primary: TaskSpec, model: TaskSpec, stride_s: float) -> int:
    """How many windows a stride of ``stride_s`` places on a clip of ``primary``'s nominal span (each
    observed clip, for LTA): the count every clip of the primary gets."""
    clip_s = primary.clip_s / primary.input_clips
    return len(windows_for_stride(clip_s, min(model.window_s or clip_s, clip_s), stride_s))


def spread_windows(clip_s: float, window_s: float, count: int) -> list[Window]:
    """``count`` windows spread evenly from the clip start to its end; one window is centred."""
    if count < 1:
        raise UserInputError(f"window count must be >= 1, got {count}", field="windows")
    if count == 1:
        start = (clip_s - window_s) / 2
        return [Window(start, start + window_s)]
    step = (clip_s - window_s) / (count - 1)
    return [Window(i * step, i * step + window_s) for i in range(count)]


def sample_frames(window: Window, fps: float, count: int | None, source_fps: float = CANONICAL_FPS) -> tuple[int, ...]:
    """Frame indices (at ``source_fps``, relative to the clip start) a model at ``fps`` sees in ``window``:
    ``count`` frames starting at the window start, one every ``source_fps / fps`` source frames (rounded
    down); ``count=None`` takes every frame of the window at that rate."""
    step = source_fps / fps
    first = window.start_s * source_fps
    n = count if count is not None else int(math.floor((window.end_s - window.start_s) * fps + 1e-9))
    return tuple(int(math.floor(first + k * step + 1e-6)) for k in range(n))


def frames_per_window(spec: TaskSpec) -> int | None:
    """Frames a TS model takes per window: span x fps (PNR 16, AR 32, LAM 7); None if any length."""
    if spec.window_s is None:
        return None
    return int(round(spec.window_s * spec.fps))


def plan_model(
    primary: TaskSpec,
    model: TaskSpec,
    clip_s: float | None = None,
    *,
    stride_s: float | None = None,
    windows: int = 1,
    count: int | None = None,
) -> ModelPlan:
    """Plan TS model ``model`` over one clip of ``primary``.

    Args:
        primary: the primary task.
        model: the TS model's task (the primary's own model included).
        clip_s: this clip's duration (default: the primary's nominal clip span).
        stride_s: slide with this stride (overrides ``windows``): every ``stride_s`` from the start, plus one
            window ending at the clip end when the last stops short of it.
        windows: else, this many windows spread evenly (1 = centred).
        count: with ``stride_s``, place exactly this many windows (:func:`stride_windows`; the extraction
            passes :func:`stride_count`, so that clips of slightly different lengths give as many tokens).
    """
    clip_s = primary.clip_s if clip_s is None else clip_s
    if model.name == primary.name or model.window_s is None:
        count = frames_per_window(model) if model.name == primary.name else None
        whole = Window(0.0, clip_s)
        return ModelPlan(model.name, model.fps, (whole,), (sample_frames(whole, model.fps, count),))
    if not model.fits_in(primary):
        return ModelPlan(model.name, model.fps, (), (), excluded=(
            f"{model.name} needs {model.window_s:.2f} s of video, longer than a {primary.name} clip "
            f"({primary.clip_s:.2f} s)"))
    span = min(model.window_s, clip_s)
    if stride_s:
        placed = (stride_windows(clip_s, span, stride_s, count) if count is not None
                  else windows_for_stride(clip_s, span, stride_s))
    else:
        placed = spread_windows(clip_s, span, windows)
    n = frames_per_window(model)
    return ModelPlan(model.name, model.fps, tuple(placed), tuple(sample_frames(w, model.fps, n) for w in placed))


def precomputed_feature_windows(num_frames: int, window: int = 32, stride: int = 16) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` of Ego4D's released per-video features (REFERENCE section 5).

    Window i covers ``[16 i, 16 i + 32)``; count = (N - 32) // 16 + 1, plus one final window moved back
    to end at the last frame when (N - 32) % 16 != 0; a single window ``[0, N)`` when N < 32.
    """
    if num_frames < window:
        return [(0, num_frames)]
    count = (num_frames - window) // stride + 1
    out = [(i * stride, i * stride + window) for i in range(count)]
    if (num_frames - window) % stride:
        out.append((num_frames - window, num_frames))
    return out
