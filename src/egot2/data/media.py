"""How a dataset reads pixels and sound: :class:`Media` (straight from the file) or :class:`SharedMedia`,
which decodes the frames several readers of one clip need in one pass and hands each its part.

A dataset's ``load(item, media)`` reads through ``media``; the default decodes what it is asked for.
The stream builder (:mod:`egot2.features.builder`) passes a :class:`SharedMedia` that also knows the
frames the auxiliary TS models will read, so that a clip is decoded once, not once per reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from egot2.data.audio import SAMPLE_RATE, read_audio
from egot2.data.video import RATE, read_frames


class Media:
    """Frames and audio read straight from the file (:func:`read_frames`, :func:`read_audio`)."""

    def frames(self, path: str | Path, indices: Sequence[int], *, clip_id: str | None = None, pixels: str = "rgb24",
               crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """As :func:`egot2.data.video.read_frames` (30 fps indices)."""
        return read_frames(path, indices, clip_id=clip_id, pixels=pixels, crop=crop)

    def audio(self, path: str | Path, start_s: float, end_s: float, *, sample_rate: int = SAMPLE_RATE,
              clip_id: str | None = None, task: str = "this task") -> np.ndarray:
        """As :func:`egot2.data.audio.read_audio`."""
        return read_audio(path, start_s, end_s, sample_rate=sample_rate, clip_id=clip_id, task=task)


MEDIA = Media()


class SharedMedia(Media):
    """Reads of one video file that share their decoding.

    The first RGB read of whole frames of ``path`` decodes those frames together with every frame
    announced by :meth:`expect`, in one :func:`read_frames` pass; later reads of frames already decoded
    cost nothing. An audio span read twice is decoded once. Other reads (grey, cropped, another file)
    go to the file. The frames are the very ones :func:`read_frames` returns for the indices alone.

    Args:
        path: the video file the clip's readers share.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._expected: set[int] = set()
        self._frames: dict[int, np.ndarray] = {}
        self._audio: dict[tuple[float, float, int], np.ndarray] = {}

    def expect(self, indices: Iterable[int]) -> None:
        """Frames (30 fps indices) that a later read will want: decoded with the first one."""
        self._expected.update(int(i) for i in indices)

    def frames(self, path: str | Path, indices: Sequence[int], *, clip_id: str | None = None, pixels: str = "rgb24",
               crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        if Path(path) != self.path or pixels != "rgb24" or crop is not None:
            return super().frames(path, indices, clip_id=clip_id, pixels=pixels, crop=crop)
        want = [int(i) for i in indices]
        todo = sorted({*want, *self._expected} - self._frames.keys())
        if any(i not in self._frames for i in want):
            decoded = read_frames(self.path, todo, rate=RATE, clip_id=clip_id)  # (len(todo), H, W, 3)
            self._frames.update(zip(todo, decoded, strict=True))
            self._expected.clear()
        return np.stack([self._frames[i] for i in want])

    def audio(self, path: str | Path, start_s: float, end_s: float, *, sample_rate: int = SAMPLE_RATE,
              clip_id: str | None = None, task: str = "this task") -> np.ndarray:
        if Path(path) != self.path:
            return super().audio(path, start_s, end_s, sample_rate=sample_rate, clip_id=clip_id, task=task)
        key = (start_s, end_s, sample_rate)
        if key not in self._audio:
            self._audio[key] = super().audio(path, start_s, end_s, sample_rate=sample_rate, clip_id=clip_id,
                                             task=task)
        return self._audio[key].copy()
