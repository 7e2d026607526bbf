"""Clip samplers: pure functions from annotation numbers to frame indices, as the Ego4D baselines sample.

Nothing here touches a file; every function is unit-tested against hand-computed examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from egot2.errors import UserInputError

PNR_FRAMES = 16
AR_FRAMES = 32
AR_SAMPLING_RATE = 2
SLOWFAST_ALPHA = 4
LAM_HALF_WINDOW = 3
ASD_CHUNK = 300
TTM_MAX_FRAMES = 150
TTM_MIN_TRAIN_FRAMES = 15


def pnr_frame_indices(start_frame: int, end_frame: int, num_frames: int = PNR_FRAMES) -> list[int]:
    """The hands-and-objects sampler: the first ``num_frames`` frame numbers in ``[start, end)`` that are
    divisible by ``ceil((end - start) / num_frames)``, or by the floor when the ceil gives too few.

    For an 8 s clip at 30 fps (240 frames) both are 15: ``[15k for k...]`` starting at the first multiple
    of 15 at or after ``start``.

    Raises:
        UserInputError: the clip has fewer than ``num_frames`` frames.
    """
    n = end_frame - start_frame
    if n < num_frames:
        raise UserInputError(f"a PNR/OSCC clip needs >= {num_frames} frames, got [{start_frame}, {end_frame})",
                             field="parent_end_frame")
    for step in (math.ceil(n / num_frames), math.floor(n / num_frames)):
        first = -(-start_frame // step) * step  # first multiple of step >= start
        frames = list(range(first, end_frame, step))[:num_frames]
        if len(frames) == num_frames:
            return frames
    raise AssertionError("unreachable: floor(n/16) always gives 16 frames")  # pragma: no cover


def nearest_index(frames: Sequence[int], target: int) -> int:
    """Index of the frame of ``frames`` nearest to ``target`` (the first one on a tie): the PNR label."""
    return int(np.argmin(np.abs(np.asarray(frames) - target)))


def ar_frame_indices(
    start_frame: int, end_frame: int, *, num_frames: int = AR_FRAMES, rate: int = AR_SAMPLING_RATE,
    mode: str = "center", rng: np.random.Generator | None = None,
) -> list[int]:
    """``num_frames`` frames ``rate`` apart inside the action ``[start_frame, end_frame)``.

    The window spans ``num_frames * rate`` frames (64: 2.13 s at 30 fps), centred in the action
    (``mode="center"``, val/test) or placed uniformly at random inside it (``"random"``, training). An
    action shorter than the window is covered by evenly spaced frames (repeats allowed).
    """
    span = num_frames * rate
    length = end_frame - start_frame
    if length <= 0:
        raise UserInputError(f"empty action [{start_frame}, {end_frame})", field="action_clip_end_frame")
    if length < span:
        return [start_frame + int(i) for i in np.linspace(0, length - 1, num_frames).round().astype(int)]
    if mode == "center":
        first = start_frame + (length - span) // 2
    elif mode == "random":
        gen = rng if rng is not None else np.random.default_rng()
        first = start_frame + int(gen.integers(0, length - span + 1))
    else:
        raise ValueError(f"mode must be 'center' or 'random', got {mode!r}")
    return list(range(first, first + span, rate))


def slow_indices(num_fast: int = AR_FRAMES, alpha: int = SLOWFAST_ALPHA) -> list[int]:
    """Positions of the slow pathway's frames among the fast pathway's (PyTorchVideo ``PackPathway``):
    ``linspace(0, T - 1, T // alpha)`` truncated; for T = 32: [0, 4, 8, 13, 17, 22, 26, 31]."""
    return [int(i) for i in np.linspace(0, num_fast - 1, num_fast // alpha).astype(np.int64)]


def window_around(frame: int, first: int, last: int, half: int = LAM_HALF_WINDOW) -> list[int]:
    """Frames ``frame - half .. frame + half`` clamped into ``[first, last]`` (LAM's 7-frame window)."""
    return [min(max(f, first), last) for f in range(frame - half, frame + half + 1)]


def chunk_positions(first_frame: int, last_frame: int, count: int, chunk: int = ASD_CHUNK) -> list[range]:
    """TalkNet's ASD chunks of a track of ``count`` boxes: list positions ``[300 i, 300 (i + 1))`` for
    ``i < ceil((last - first + 1) / 300)``, keeping chunks with more than one box."""
    n_chunks = math.ceil((last_frame - first_frame + 1) / chunk)
    out = [range(i * chunk, min((i + 1) * chunk, count)) for i in range(n_chunks)]
    return [r for r in out if len(r) > 1]


def ttm_pieces(start_frame: int, end_frame: int, *, train: bool,
               max_frames: int = TTM_MAX_FRAMES, min_frames: int = TTM_MIN_TRAIN_FRAMES) -> list[tuple[int, int]]:
    """Inclusive pieces of a talking segment ``start..end`` as the TTM loader cuts it.

    A segment of L <= 150 frames is one piece; a longer one becomes floor(L / 150) pieces of 150
    frames (the rest is dropped). In training, pieces shorter than 15 frames are dropped; L <= 1 gives
    nothing.
    """
    length = end_frame - start_frame + 1
    if length <= 1:
        return []
    if length <= max_frames:
        pieces = [(start_frame, end_frame)]
    else:
        pieces = [(start_frame + k * max_frames, start_frame + (k + 1) * max_frames - 1)
                  for k in range(length // max_frames)]
    if train:
        pieces = [p for p in pieces if p[1] - p[0] + 1 >= min_frames]
    return pieces
