"""Writing canonical videos with PyAV: H.264 (or MPEG-4 part 2) at 30 fps, optional 16 kHz mono audio.

Files are written atomically (a temporary name, renamed on success). x264 runs single-threaded so that
the same frames always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from egot2.errors import UserInputError
from egot2.synth.config import FPS, SAMPLE_RATE
from egot2.utils.atomic import atomic_path

_AUDIO_CHUNK = 1024


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:  # noqa: BLE001 - PyAV raises several kinds for a missing codec
        return False
    return True


def pick_video_codec(name: str) -> str:
    """The PyAV encoder for a world's ``video.codec`` (``auto``: libx264 when present, else mpeg4)."""
    if name in ("auto", "h264"):
        for candidate in ("libx264", "h264"):
            if _has_encoder(candidate):
                return candidate
        if name == "h264":
            raise UserInputError("this PyAV build has no H.264 encoder; use video.codec=mpeg4", field="video.codec")
        return "mpeg4"
    if name == "mpeg4":
        return "mpeg4"
    raise UserInputError(f"unknown codec {name!r}", field="video.codec")


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    *,
    width: int,
    height: int,
    codec: str = "auto",
    crf: int = 17,
    gop: int = 30,
    audio: np.ndarray | None = None,
    audio_codec: str = "aac",
    faststart: bool = False,
) -> int:
    """Encode ``frames`` (each (height, width, 3) uint8 RGB) to an mp4 at 30 fps, atomically.

    Args:
        path: the ``.mp4`` to write.
        frames: the frames in order.
        width, height: frame size.
        codec: ``auto``, ``h264`` or ``mpeg4``.
        crf: H.264 quality; MPEG-4 gets a matching bit rate.
        gop: frames between keyframes.
        audio: optional (samples,) float32 mono at 16 kHz, interleaved with the video by time.
        audio_codec: ``aac`` or ``mp2``.
        faststart: put the index at the front of the file (as streaming files do).

    Returns:
        The number of frames written.
    """
    encoder = pick_video_codec(codec)
    with atomic_path(path) as tmp:
        options = {"movflags": "+faststart"} if faststart else {}
        with av.open(str(tmp), "w", format="mp4", options=options) as container:
            vs = container.add_stream(encoder, rate=FPS)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            vs.time_base = Fraction(1, FPS)
            vs.codec_context.gop_size = gop
            if encoder == "libx264":
                vs.options = {"preset": "ultrafast", "crf": str(crf), "threads": "1"}
            else:
                vs.bit_rate = int(width * height * FPS * 0.25 * (1.0 + (23 - crf) / 10))
                vs.codec_context.thread_count = 1
            audio_out = _AudioOut(container, audio, audio_codec) if audio is not None else None
            n = 0
            for frame in frames:
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                vf.pts = n
                for packet in vs.encode(vf):
                    container.mux(packet)
                n += 1
                if audio_out is not None:
                    audio_out.write_until(n / FPS)
            for packet in vs.encode():
                container.mux(packet)
            if audio_out is not None:
                audio_out.finish()
    return n


class _AudioOut:
    """Feeds a mono float32 signal to an audio stream in chunks, by time."""

    def __init__(self, container: av.container.OutputContainer, audio: np.ndarray, codec: str) -> None:
        self.stream = container.add_stream(codec, rate=SAMPLE_RATE)
        self.stream.layout = "mono"
        if codec == "aac":
            self.stream.options = {"aac_coder": "fast"}
            self.stream.bit_rate = 48000
        self.container = container
        self.audio = np.ascontiguousarray(np.clip(audio, -1, 1), dtype=np.float32)
        self.resampler = av.AudioResampler(format=self.stream.codec_context.format.name, layout="mono",
                                           rate=SAMPLE_RATE)
        self.pos = 0

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for f in self.resampler.resample(frame) if frame is not None else self.resampler.resample(None):
            for packet in self.stream.encode(f):
                self.container.mux(packet)

    def write_until(self, t: float) -> None:
        end = min(int(round(t * SAMPLE_RATE)), len(self.audio))
        while end - self.pos >= _AUDIO_CHUNK:
            self._push(self.pos + _AUDIO_CHUNK)

    def _push(self, end: int) -> None:
        chunk = self.audio[None, self.pos:end]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.pos
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self.pos = end
        self._encode(frame)

    def finish(self) -> None:
        while self.pos < len(self.audio):
            self._push(min(self.pos + _AUDIO_CHUNK, len(self.audio)))
        self._encode(None)
        for packet in self.stream.encode():
            self.container.mux(packet)
