"""Video decoding with PyAV: probe a file, read frames by their index on a 30 fps grid.

Annotation frame numbers are frames of a 30 fps timeline. :func:`read_frames` maps index ``i`` to time
``i / rate`` and returns the decoded frame shown at that time (the last frame whose timestamp is not
after it), so a 25 fps file is resampled to 30 fps indices and a 30 fps file is read frame for frame.
Every problem with a file becomes a :class:`~egot2.errors.UserInputError` naming the file, the clip
and what was expected.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from egot2.errors import UserInputError

RATE = 30.0  # the annotation timeline of Ego4D canonical videos
_EPS = 1e-6


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns from a file's header.

    Args:
        path: the file.
        fps: native frame rate.
        native_frames: frames in the file at its native rate.
        duration_s: duration of the video stream (``native_frames / fps``).
        width, height: frame size.
        has_audio: whether the file has an audio stream.
        audio_rate: the audio's sample rate (None without audio).
        audio_channels: the audio's channel count (None without audio).
        audio_duration_s: the audio stream's duration (None without audio).
    """

    path: Path
    fps: float
    native_frames: int
    duration_s: float
    width: int
    height: int
    has_audio: bool
    audio_rate: int | None = None
    audio_channels: int | None = None
    audio_duration_s: float | None = None

    def num_frames(self, rate: float = RATE) -> int:
        """Frames on a ``rate`` fps grid: indices ``0 .. n-1`` fall inside the video."""
        return int(math.ceil(self.duration_s * rate - _EPS))


def _where(clip_id: str | None) -> str:
    return f"clip {clip_id!r}: " if clip_id else ""


def open_container(path: str | Path, clip_id: str | None = None) -> av.container.InputContainer:
    """Open ``path`` for reading, with a clear error for a missing, unreadable or truncated file."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{_where(clip_id)}video file not found (expected an .mp4 at this path)", file=path)
    try:
        return av.open(str(path), "r")
    except av.error.FFmpegError as exc:
        raise UserInputError(f"{_where(clip_id)}cannot open the video ({exc.strerror or exc}); the file is "
                             "truncated, corrupt or not a video", file=path) from None



class ContainerPool:
    """Open files kept for reuse while a pool is :meth:`active` in a thread.

    Reading a clip opens its file for the frames and again for the audio, and the clips of one long
    video each open it anew; inside ``with pool.active():`` those reads share one open container per
    file (the ``size`` files used last stay open). A read of a reused container seeks to where it starts
    (a seek starts the decoders afresh: video frames after a seek to the start are the ones a fresh
    file gives); audio read from the very start of the file gets a freshly opened one (the AAC decoder's
    first samples after a seek to the start differ from a fresh file's). So the frames and samples are
    the ones a freshly opened file gives. A read that fails closes its container. :meth:`close` closes
    them all.

    Args:
        size: how many files stay open.
    """

    _local = threading.local()

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._open: OrderedDict[tuple[str, int, int], av.container.InputContainer] = OrderedDict()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def active(self) -> Iterator[ContainerPool]:
        """Reads in this thread use the pool inside the block."""
        before = getattr(self._local, "pool", None)
        self._local.pool = self
        try:
            yield self
        finally:
            self._local.pool = before

    @classmethod
    def current(cls) -> ContainerPool | None:
        """The pool active in this thread, if any."""
        return getattr(cls._local, "pool", None)

    @contextlib.contextmanager
    def reading(self, path: Path, clip_id: str | None, from_start: bool = False
                ) -> Iterator[tuple[av.container.InputContainer, bool]]:
        """``(container, fresh)``: ``fresh`` when just opened (at the start of the file); a reused one is
        wherever the last read left it, and the reader seeks first. ``from_start``: the read does not seek,
        so it gets a fresh one."""
        st = path.stat() if path.is_file() else None
        key = (str(path), st.st_mtime_ns, st.st_size) if st is not None else None
        with self._lock:
            c = self._open.pop(key, None) if key is not None else None
        if c is not None and from_start:
            c.close()
            c = None
        fresh = c is None
        if c is None:
            c = open_container(path, clip_id)
        try:
            yield c, fresh
        except BaseException:
            c.close()
            raise
        if key is None:
            c.close()
            return
        with self._lock:
            self._open[key] = c
            stale = [self._open.popitem(last=False)[1] for _ in range(len(self._open) - self.size)]
        for old in stale:
            old.close()

    def close(self) -> None:
        """Close every container the pool holds."""
        with self._lock:
            held, self._open = list(self._open.values()), OrderedDict()
        for c in held:
            c.close()


@contextlib.contextmanager
def reading(path: Path, clip_id: str | None = None, from_start: bool = False
            ) -> Iterator[tuple[av.container.InputContainer, bool]]:
    """``(container, fresh)`` for one read of ``path``: from the thread's active :class:`ContainerPool`,
    else freshly opened and closed after. A read that does not seek first says ``from_start`` (it then
    always gets a freshly opened container)."""
    pool = ContainerPool.current()
    if pool is not None:
        with pool.reading(path, clip_id, from_start) as opened:
            yield opened
        return
    with open_container(path, clip_id) as c:
        yield c, True

def _probe(path: Path, clip_id: str | None) -> VideoInfo:
    with open_container(path, clip_id) as c:
        if not c.streams.video:
            raise UserInputError(f"{_where(clip_id)}the file has no video stream", file=path)
        vs = c.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        if not rate:
            raise UserInputError(f"{_where(clip_id)}the video stream has no frame rate", file=path)
        fps = float(rate)
        frames = int(vs.frames or 0)
        if frames <= 0:  # containers without a frame count: use the duration
            if vs.duration is not None and vs.time_base is not None:
                dur = float(vs.duration * vs.time_base)
            elif c.duration is not None:
                dur = c.duration / av.time_base
            else:
                raise UserInputError(f"{_where(clip_id)}the video has neither a frame count nor a duration",
                                     file=path)
            frames = int(round(dur * fps))
        audio = c.streams.audio[0] if c.streams.audio else None
        a_dur = None
        if audio is not None:
            if audio.duration is not None and audio.time_base is not None:
                a_dur = float(audio.duration * audio.time_base)
            elif c.duration is not None:
                a_dur = c.duration / av.time_base
        return VideoInfo(
            path=path, fps=fps, native_frames=frames, duration_s=frames / fps,
            width=vs.codec_context.width, height=vs.codec_context.height, has_audio=audio is not None,
            audio_rate=audio.codec_context.sample_rate if audio is not None else None,
            audio_channels=audio.codec_context.channels if audio is not None else None,
            audio_duration_s=a_dur,
        )


@lru_cache(maxsize=4096)
def _probe_cached(path: str, mtime_ns: int, size: int) -> VideoInfo:
    return _probe(Path(path), None)


def probe_video(path: str | Path, clip_id: str | None = None) -> VideoInfo:
    """Header information of ``path`` (cached per file version).

    Raises:
        UserInputError: missing file, unreadable or truncated container, no video stream.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UserInputError(f"{_where(clip_id)}video file not found (expected an .mp4 at this path)",
                             file=path) from None
    try:
        return _probe_cached(str(path), st.st_mtime_ns, st.st_size)
    except UserInputError as exc:
        raise UserInputError(f"{_where(clip_id)}{exc.detail}", file=path) from None


def check_frames(info: VideoInfo, last_frame: int, clip_id: str | None = None, field: str | None = None,
                 rate: float = RATE) -> None:
    """Raise unless frame ``last_frame`` (``rate`` fps grid) lies inside the video."""
    n = info.num_frames(rate)
    if last_frame >= n or last_frame < 0:
        raise UserInputError(
            f"{_where(clip_id)}needs frame {last_frame} ({last_frame / rate:.2f} s at {rate:g} fps) but the video "
            f"has {n} frames ({info.duration_s:.2f} s): the clip lies beyond the video's end",
            file=info.path, field=field)


def read_frames(
    path: str | Path, indices: Sequence[int], *, rate: float = RATE, clip_id: str | None = None,
    pixels: str = "rgb24", crop: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Decode the frames at ``indices`` of a ``rate`` fps timeline.

    Args:
        path: the video file.
        indices: frame indices (any order, repeats allowed).
        rate: the frame rate the indices count in (Ego4D annotations: 30).
        clip_id: the clip or record the frames are for (named in errors).
        pixels: ``rgb24`` or ``gray`` (luminance straight from the decoder's luma plane).
        crop: keep only pixels ``[y0:y1, x0:x1]`` of each frame, given as ``(x0, y0, x1, y1)``
            (cheaper than cropping afterwards; parts beyond the frame are cut off).

    Returns:
        (len(indices), H, W, 3) uint8 RGB (``gray``: (len(indices), H, W)), in the order of ``indices``.

    Raises:
        UserInputError: missing, unreadable or truncated file; an index beyond the video's end.
    """
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ValueError("read_frames needs at least one index")
    if idx.min() < 0:
        raise UserInputError(f"{_where(clip_id)}negative frame index {int(idx.min())}", file=path)
    wanted = np.unique(idx)
    got = _decode(Path(path), wanted / rate, clip_id, pixels, crop)
    lookup = {int(w): got[i] for i, w in enumerate(wanted)}
    return np.stack([lookup[int(i)] for i in idx])


_LUMA_FORMATS = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"})
_LIMITED_TO_FULL = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)


def _luma(frame: av.VideoFrame, crop: tuple[int, int, int, int] | None) -> np.ndarray:
    """The luma plane of a YUV frame as full-range grey (H, W) uint8: a copy, no colour conversion."""
    plane = frame.planes[0]
    y = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: frame.height, : frame.width]
    if crop is not None:
        y = y[crop[1]:crop[3], crop[0]:crop[2]]
    if frame.format.name.startswith("yuvj") or frame.color_range == 2:  # already full range (JPEG)
        return y.copy()
    return _LIMITED_TO_FULL[y]


def _decode(path: Path, times: np.ndarray, clip_id: str | None, pixels: str = "rgb24",
            crop: tuple[int, int, int, int] | None = None) -> list[np.ndarray]:
    """Frames shown at the sorted ``times`` (seconds from the stream start)."""
    out: list[np.ndarray] = []
    reformatter = VideoReformatter()  # one conversion context for all frames (frame.to_ndarray builds one each time)

    def rgb(frame: av.VideoFrame) -> np.ndarray:
        if pixels == "gray" and frame.format.name in _LUMA_FORMATS:
            return _luma(frame, crop)
        arr = reformatter.reformat(frame, format=pixels, threads=1).to_ndarray()
        return arr if crop is None else arr[crop[1]:crop[3], crop[0]:crop[2]]

    with reading(path, clip_id) as (c, fresh):
        if not c.streams.video:
            raise UserInputError(f"{_where(clip_id)}the file has no video stream", file=path)
        vs = c.streams.video[0]
        if fresh:
            vs.codec_context.thread_count = 1  # one clip's frames: a thread pool costs more than it gives here
        tb = float(vs.time_base)
        start = vs.start_time or 0
        frame_dur = 1.0 / float(vs.average_rate or vs.guessed_rate or 30)
        for attempt in range(2):
            out.clear()
            seek_to = 0 if attempt else max(times[0] - frame_dur, 0.0)
            if seek_to > 0:
                c.seek(start + int(seek_to / tb), stream=vs, backward=True)
            elif attempt or not fresh:  # a reused container is wherever its last read stopped
                c.seek(start, stream=vs, backward=True)
            prev = prev_arr = None
            prev_t = -math.inf
            j, n = 0, len(times)
            try:
                for frame in c.decode(vs):
                    t = ((frame.pts if frame.pts is not None else 0) - start) * tb
                    if j == 0 and prev is None and times[0] < t - _EPS and seek_to > 0:
                        break  # the seek landed after the first wanted frame: decode from the start
                    while j < n and times[j] <= t + _EPS:
                        if times[j] >= t - _EPS or prev is None:
                            out.append(rgb(frame))
                        else:
                            if prev_arr is None:
                                prev_arr = rgb(prev)
                            out.append(prev_arr)
                        j += 1
                    if j >= n:
                        return out
                    prev, prev_arr, prev_t = frame, None, t
            except av.error.FFmpegError as exc:
                raise UserInputError(f"{_where(clip_id)}cannot decode the video near {prev_t:.2f} s "
                                     f"({exc.strerror or exc}); the file is truncated or corrupt", file=path) from None
            if prev is None and seek_to > 0:
                continue
            while j < n and prev is not None and times[j] < prev_t + frame_dur - _EPS:
                if prev_arr is None:
                    prev_arr = rgb(prev)
                out.append(prev_arr)
                j += 1
            if j >= n:
                return out
            last = prev_t + frame_dur if prev is not None else 0.0
            raise UserInputError(
                f"{_where(clip_id)}needs the frame at {times[j]:.3f} s but the video ends at {last:.3f} s "
                f"(the clip lies beyond the video's end, or the file is truncated)", file=path)
    raise AssertionError("unreachable")  # pragma: no cover
