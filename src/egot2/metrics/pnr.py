"""PNR keyframe localisation error in seconds (Ego4D hands-and-objects ``keyframe_distance``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Number of frames a PNR model sees and scores per clip.
NUM_KEYFRAMES = 16


def keyframe_fps(start_frame: ArrayLike, end_frame: ArrayLike, start_sec: ArrayLike, end_sec: ArrayLike) -> np.ndarray:
    """The official fps of a clip: ``(E - S + 1) / (end_sec - start_sec)`` (note the +1: 240 frames over 8 s give 30.125)."""
    s, e = np.asarray(start_frame, dtype=np.float64), np.asarray(end_frame, dtype=np.float64)
    return (e - s + 1) / (np.asarray(end_sec, dtype=np.float64) - np.asarray(start_sec, dtype=np.float64))


def pnr_frame_from_index(keyframe_index: ArrayLike, start_frame: ArrayLike, end_frame: ArrayLike) -> np.ndarray:
    """The submission value ``(E - S) / 16 * k`` for keyframe index ``k`` (relative to ``S``)."""
    s, e = np.asarray(start_frame, dtype=np.float64), np.asarray(end_frame, dtype=np.float64)
    return (e - s) / NUM_KEYFRAMES * np.asarray(keyframe_index, dtype=np.float64)


def keyframe_index_from_logits(logits: ArrayLike) -> np.ndarray:
    """Argmax over the 16 keyframe logits, the first maximum winning a tie. ``logits``: (N, 16) -> (N,)."""
    return np.argmax(np.asarray(logits), axis=-1)


def pnr_errors_sec(
    pred_frames: ArrayLike,
    start_frames: ArrayLike,
    end_frames: ArrayLike,
    start_secs: ArrayLike,
    end_secs: ArrayLike,
    pnr_frames: ArrayLike,
) -> np.ndarray:
    """Per-clip error ``|pred - (P - S)| / fps`` in seconds, for clips that all have a state change.

    Args:
        pred_frames: (N,) predicted PNR frames relative to ``parent_start_frame``.
        start_frames, end_frames: (N,) ``parent_start_frame`` S and ``parent_end_frame`` E.
        start_secs, end_secs: (N,) ``parent_start_sec`` and ``parent_end_sec``.
        pnr_frames: (N,) ground-truth ``parent_pnr_frame`` P (absolute parent-video frames).
    """
    s = np.asarray(start_frames, dtype=np.float64)
    gt = np.asarray(pnr_frames, dtype=np.float64) - s
    err_frames = np.abs(np.asarray(pred_frames, dtype=np.float64) - gt)
    return err_frames / keyframe_fps(start_frames, end_frames, start_secs, end_secs)


def pnr_keyframe_error(
    pred_frames: ArrayLike,
    start_frames: ArrayLike,
    end_frames: ArrayLike,
    start_secs: ArrayLike,
    end_secs: ArrayLike,
    pnr_frames: ArrayLike,
    state_change: ArrayLike,
) -> float:
    """Mean PNR error in seconds over the clips whose ground truth has a state change.

    Clips with ``state_change`` False are skipped whatever was predicted (their ``pnr_frames`` entry may
    be NaN). The mean is over clips, not a mean of batch means.

    Args:
        pred_frames: (N,) predicted PNR frames relative to ``parent_start_frame``.
        start_frames, end_frames, start_secs, end_secs: (N,) the ``parent_*`` clip window.
        pnr_frames: (N,) ground-truth ``parent_pnr_frame`` (ignored where ``state_change`` is False).
        state_change: (N,) ground-truth state change flags.

    Returns:
        The mean error in seconds, or NaN when no clip has a state change.
    """
    mask = np.asarray(state_change, dtype=bool)
    if not mask.any():
        return float("nan")

    def pick(a: ArrayLike) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)[mask]

    errors = pnr_errors_sec(pick(pred_frames), pick(start_frames), pick(end_frames), pick(start_secs),
                            pick(end_secs), pick(pnr_frames))
    return float(np.mean(errors))
