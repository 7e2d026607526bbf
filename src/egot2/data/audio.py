"""Audio with PyAV: a time span of a file's first audio stream as 16 kHz mono, and ASD's MFCC rows.

Any input rate and channel layout (e.g. AAC 48 kHz 6 channels) is mixed down and resampled by
libswresample. Codec priming samples (negative timestamps) are dropped, so sample 0 is time 0.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import torch

from egot2.data.video import _where, reading
from egot2.errors import UserInputError

SAMPLE_RATE = 16000
AUDIO_TOLERANCE_S = 0.1  # an audio stream may end this much before the requested span (codec padding)
MFCC_ROWS_PER_FRAME = 4
MFCC_WINLEN = 0.025 * 25 / 30  # TalkNet's window and step for 25 fps, scaled to 30 fps video
MFCC_WINSTEP = 0.010 * 25 / 30


def read_audio(
    path: str | Path, start_s: float, end_s: float, *, sample_rate: int = SAMPLE_RATE, clip_id: str | None = None,
    task: str = "this task",
) -> np.ndarray:
    """Samples of ``[start_s, end_s)`` as mono float32 in [-1, 1] at ``sample_rate``.

    Returns exactly ``round((end_s - start_s) * sample_rate)`` samples; up to
    :data:`AUDIO_TOLERANCE_S` missing at the end (codec padding) are filled with zeros.

    Raises:
        UserInputError: missing or unreadable file, no audio stream (``task`` needs one), or a span
            beyond the audio's end.
    """
    path = Path(path)
    n_out = int(round((end_s - start_s) * sample_rate))
    if n_out <= 0:
        raise UserInputError(f"{_where(clip_id)}empty audio span [{start_s}, {end_s})", file=path)
    margin = 0.2  # decoded before start_s after a seek (the decoder's first frame after a seek is off)
    with reading(path, clip_id, from_start=start_s <= margin) as (c, _):
        if not c.streams.audio:
            raise UserInputError(f"{_where(clip_id)}the video has no audio stream; {task} needs 16 kHz audio "
                                 "(audio-visual tasks read the speech track)", file=path)
        stream = c.streams.audio[0]
        if start_s > margin:
            c.seek(int((start_s - margin) / float(stream.time_base)) + (stream.start_time or 0), stream=stream,
                   backward=True)
        try:
            chunks, first_t = _decode_mono(c, stream, sample_rate, end_s + 0.05)
        except av.error.FFmpegError as exc:
            raise UserInputError(f"{_where(clip_id)}cannot decode the audio ({exc.strerror or exc}); the file is "
                                 "truncated or corrupt", file=path) from None
    signal = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    offset = int(round((start_s - first_t) * sample_rate))
    if offset < 0:  # the stream starts after start_s: silence before it
        signal = np.concatenate([np.zeros(-offset, np.float32), signal])
        offset = 0
    piece = signal[offset:offset + n_out]
    missing = n_out - len(piece)
    if missing > AUDIO_TOLERANCE_S * sample_rate:
        have = first_t + len(signal) / sample_rate
        raise UserInputError(f"{_where(clip_id)}needs audio until {end_s:.2f} s but the audio stream ends at "
                             f"{have:.2f} s (the clip lies beyond the audio's end)", file=path)
    if missing > 0:
        piece = np.concatenate([piece, np.zeros(missing, np.float32)])
    return np.ascontiguousarray(piece, dtype=np.float32)


def _is_mono_float(frame: av.AudioFrame, sample_rate: int) -> bool:
    """Whether ``frame`` already is what the resampler would make: one float channel at ``sample_rate``."""
    return frame.sample_rate == sample_rate and frame.layout.nb_channels == 1 and frame.format.name in ("flt", "fltp")


def _decode_mono(c: av.container.InputContainer, stream: av.AudioStream, sample_rate: int, need_until: float
                 ) -> tuple[list[np.ndarray], float]:
    """Mono float32 chunks of ``stream`` from the container's position until a frame starts after
    ``need_until`` seconds, and the time of the first sample (0 if none).

    A stream that already is mono float at ``sample_rate`` (the synthetic world's 16 kHz AAC) is read
    straight from the decoded frames, the very numbers libswresample's copy gives (a plain copy), with no
    per-frame conversion; anything else goes through libswresample.
    """
    chunks: list[np.ndarray] = []
    first_t: float | None = None
    resampler: av.AudioResampler | None = None
    time_base = stream.time_base
    seconds = float(time_base)
    for frame in c.decode(stream):
        pts = frame.pts
        if pts is None:
            continue
        if resampler is None and _is_mono_float(frame, sample_rate):
            if first_t is None:
                first_t = float(pts * time_base)
            chunks.append(np.frombuffer(frame.planes[0], np.float32, count=frame.samples))
        else:
            if resampler is None:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            frame.time_base = frame.time_base or time_base
            for out in resampler.resample(frame):
                if first_t is None:
                    first_t = float(out.pts * Fraction(1, sample_rate)) if out.pts is not None else float(frame.time)
                chunks.append(out.to_ndarray().reshape(-1))
        if pts * seconds > need_until:
            break
    else:
        for out in resampler.resample(None) if resampler is not None else ():
            if first_t is None:
                first_t = 0.0
            chunks.append(out.to_ndarray().reshape(-1))
    return chunks, first_t or 0.0


def mfcc_rows(audio: np.ndarray, num_frames: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """13-coefficient MFCC of ``audio`` with 4 rows per video frame: (4 * num_frames, 13) float32.

    Window and step are TalkNet's (25 ms / 10 ms at 25 fps) scaled by 25/30 for 30 fps video; the
    signal is scaled to the int16 range as TalkNet reads wav files. Rows are cut or edge-padded to
    exactly ``4 * num_frames``.
    """
    rows = MFCC_ROWS_PER_FRAME * num_frames
    feats = mfcc(np.asarray(audio, np.float64) * 32768.0, sample_rate)  # (R, 13)
    if len(feats) >= rows:
        return feats[:rows].astype(np.float32)
    pad = np.repeat(feats[-1:], rows - len(feats), axis=0) if len(feats) else np.zeros((rows, 13))
    return np.concatenate([feats, pad]).astype(np.float32)


@lru_cache(maxsize=8)
def _filterbank(sample_rate: int, nfft: int) -> np.ndarray:
    from python_speech_features.base import get_filterbanks

    return get_filterbanks(26, nfft, sample_rate, 0, sample_rate / 2)


def mfcc(signal: np.ndarray, sample_rate: int = SAMPLE_RATE, winlen: float = MFCC_WINLEN,
         winstep: float = MFCC_WINSTEP, numcep: int = 13) -> np.ndarray:
    """``python_speech_features.mfcc`` with its defaults (26 filters, nfft 512, pre-emphasis 0.97,
    lifter 22, log energy as c0), the same numbers computed with a strided framing, a cached
    filterbank and torch's matmul (its own framing copies the signal through index arrays).
    (frames, numcep) float64."""
    from python_speech_features import base, sigproc

    nfft = 512
    sig = sigproc.preemphasis(np.asarray(signal, np.float64), 0.97)
    flen, fstep = sigproc.round_half_up(winlen * sample_rate), sigproc.round_half_up(winstep * sample_rate)
    n = 1 if len(sig) <= flen else 1 + math.ceil((len(sig) - flen) / fstep)
    padded = np.concatenate([sig, np.zeros((n - 1) * fstep + flen - len(sig))])
    frames = np.lib.stride_tricks.sliding_window_view(padded, flen)[::fstep][:n]  # (n, flen), a view
    pspec = sigproc.powspec(frames, nfft)  # (n, nfft // 2 + 1)
    energy = pspec.sum(1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    # torch honours set_num_threads (1 in data-loader workers); numpy's BLAS would spin up its own threads
    feat = (torch.from_numpy(pspec) @ torch.from_numpy(_filterbank(sample_rate, nfft).T)).numpy()
    feat = np.where(feat == 0, np.finfo(float).eps, feat)
    feat = base.dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :numcep]
    feat = base.lifter(feat, 22)
    feat[:, 0] = np.log(energy)
    return feat
