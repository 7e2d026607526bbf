"""The evaluated LAM (looking at me) rows, derived as the official social-interactions pipeline does.

``get_json`` -> ``get_lam_result`` -> ``make_dataset`` (val stride 13) -> ``PostProcessor``: face
boxes of every track of ``persons[1:]``, cleaned and interpolated per track, every 13th kept, each
labelled by whether that person looks at the camera wearer in that frame. Score them with
:func:`egot2.metrics.voc_ap.two_class_map`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from egot2.data.annotations import AvClip, TrackBox

#: Every ``LAM_STRIDE``-th box of a track is evaluated (``val_stride``).
LAM_STRIDE = 13


@dataclass(frozen=True)
class LamRow:
    """One evaluated face box.

    Args:
        clip_uid, frame, track_id: identify the row (join key ``clip_uid:frame:track_id``).
        x1, y1, x2, y2: the derived box that predictions must repeat.
        label: 1 if the person looks at the camera wearer in this frame, else 0.
    """

    clip_uid: str
    frame: int
    x1: float
    y1: float
    x2: float
    y2: float
    track_id: str
    label: int

    @property
    def key(self) -> str:
        """The official join key ``"<clip_uid>:<frame>:<track_id>"``."""
        return f"{self.clip_uid}:{self.frame}:{self.track_id}"


def lam_track_boxes(track: Sequence[TrackBox], person_id: str) -> list[tuple[int, float, float, float, float]]:
    """The official per-track cleaning: ``(frame, x1, y1, x2, y2)`` for every box it keeps or interpolates.

    Boxes are sorted by frame (stable). Boxes with width <= 0, height <= 0 or frame 0 are dropped, and
    the whole track if ``person_id`` is "". ``x`` and ``y`` are clamped to >= 0 without changing the
    size (so ``x2 = max(x, 0) + width``). If the kept boxes leave frames uncovered between the first and
    the last, each coordinate is interpolated linearly at every integer frame, which also brings back
    dropped interior boxes.
    """
    if person_id == "":
        return []
    kept = [b for b in sorted(track, key=lambda b: b.frame) if b.width > 0 and b.height > 0 and b.frame != 0]
    if not kept:
        return []
    frames = np.array([b.frame for b in kept], dtype=np.int64)
    boxes = np.array([[max(b.x, 0.0), max(b.y, 0.0), max(b.x, 0.0) + b.width, max(b.y, 0.0) + b.height]
                      for b in kept], dtype=np.float64)  # (n, 4) x1 y1 x2 y2
    if frames[-1] - frames[0] + 1 > len(kept):
        grid = np.arange(frames[0], frames[-1] + 1)
        boxes = np.stack([np.interp(grid, frames, boxes[:, j]) for j in range(4)], axis=1)  # (len(grid), 4)
        frames = grid
    # The official loader stores width = x2 - x1 and writes x1 + width: repeat that arithmetic.
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + (boxes[:, 2] - x1), y1 + (boxes[:, 3] - y1)
    return list(zip(frames.tolist(), x1.tolist(), y1.tolist(), x2.tolist(), y2.tolist()))


def lam_rows(clips: Iterable[AvClip], stride: int = LAM_STRIDE) -> list[LamRow]:
    """All evaluated LAM rows of ``clips``, in annotation order, one per join key.

    Positives are the ``(frame, person)`` pairs of every ``social_segments_looking`` entry with a
    non-null person (frames inclusive; person compared as an exact string). ``persons[0]`` is skipped
    by position. A repeated key keeps its first row, as the official ``drop_duplicates`` does. A clip
    without looking segments is scored with all rows negative (the official pipeline crashes on it).

    Args:
        clips: the annotated clips.
        stride: keep list positions 0, stride, 2*stride, ... of every cleaned track.
    """
    rows: list[LamRow] = []
    seen: set[str] = set()
    for clip in clips:
        positive: set[tuple[int, str]] = set()
        for seg in clip.social_segments_looking:
            if seg.person is not None:
                positive.update((f, seg.person) for f in range(seg.start_frame, seg.end_frame + 1))
        for person in clip.persons[1:]:
            for path in person.tracking_paths:
                for frame, x1, y1, x2, y2 in lam_track_boxes(path.track, person.person_id)[::stride]:
                    row = LamRow(clip.clip_uid, frame, x1, y1, x2, y2, path.track_id,
                                 int((frame, person.person_id) in positive))
                    if row.key not in seen:
                        seen.add(row.key)
                        rows.append(row)
    return rows
