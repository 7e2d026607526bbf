"""Face tracks for the human-human tasks of ``egot2 predict``: a CSV file of per-frame boxes.

Format (a header line, then one face box per line; columns in any order)::

    frame,x1,y1,x2,y2,track_id
    30,112.0,40.5,168.0,110.0,alice
    31,113.0,41.0,169.0,111.0,alice

``frame`` is a frame number on the video's 30 fps timeline (time = frame / 30 s, whatever the file's
own frame rate, as everywhere in egot2), ``x1, y1, x2, y2`` the box corners in pixels of the decoded
frame, ``track_id`` names the face track (optional: without the column every box belongs to track
``"0"``). Frames missing inside a track are filled by linear interpolation of the corners.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from egot2.errors import UserInputError

REQUIRED = ("frame", "x1", "y1", "x2", "y2")
OPTIONAL = ("track_id",)
DEFAULT_TRACK = "0"


@dataclass(frozen=True)
class FaceTrack:
    """One face track, every frame from its first to its last box.

    Args:
        track_id: the track's name.
        frames: consecutive frame numbers (n,).
        boxes: (n, 4) x1, y1, x2, y2 per frame (interpolated where the file has no box).
    """

    track_id: str
    frames: tuple[int, ...]
    boxes: np.ndarray

    def box(self, frame: int) -> tuple[float, float, float, float]:
        """The box at ``frame`` (a frame of the track)."""
        x1, y1, x2, y2 = self.boxes[frame - self.frames[0]].tolist()
        return x1, y1, x2, y2

    def within(self, first: int, end: int) -> FaceTrack | None:
        """The part of the track in frames ``[first, end)``; None when nothing is left."""
        keep = [i for i, f in enumerate(self.frames) if first <= f < end]
        if not keep:
            return None
        return FaceTrack(self.track_id, self.frames[keep[0]:keep[-1] + 1], self.boxes[keep[0]:keep[-1] + 1])


def _number(value: str, path: Path, line: int, column: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise UserInputError(f"line {line}: expected a number, got {value!r}", file=path, field=column) from None
    if not math.isfinite(x):
        raise UserInputError(f"line {line}: expected a finite number, got {value!r}", file=path, field=column)
    return x


def _frame(value: str, path: Path, line: int, num_frames: int | None) -> int:
    try:
        frame = int(value)
    except ValueError:
        raise UserInputError(f"line {line}: expected a frame number (an integer >= 0), got {value!r}", file=path,
                             field="frame") from None
    if frame < 0:
        raise UserInputError(f"line {line}: expected a frame number (an integer >= 0), got {frame}", file=path,
                             field="frame")
    if num_frames is not None and frame >= num_frames:
        raise UserInputError(f"line {line}: frame {frame} ({frame / 30:.2f} s at 30 fps) lies beyond the video's "
                             f"end (frames 0..{num_frames - 1})", file=path, field="frame")
    return frame


def _interpolated(track_id: str, rows: dict[int, tuple[float, float, float, float]]) -> FaceTrack:
    known = np.array(sorted(rows))
    boxes = np.array([rows[f] for f in known], dtype=np.float64)  # (n, 4)
    grid = np.arange(known[0], known[-1] + 1)
    if len(grid) > len(known):
        boxes = np.stack([np.interp(grid, known, boxes[:, j]) for j in range(4)], axis=1)  # (len(grid), 4)
    return FaceTrack(track_id, tuple(int(f) for f in grid), boxes)


def read_tracks(path: str | Path, num_frames: int | None = None) -> list[FaceTrack]:
    """Read a tracks CSV file (module docstring); tracks in the order of their first line.

    Args:
        path: the file.
        num_frames: frames of the video (30 fps grid); a box beyond them is an error.

    Raises:
        UserInputError: a missing or empty file, a missing or unknown column, a value that is not a
            number, an empty box, a frame given twice in one track - each naming the file, the line
            and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError("tracks file not found (expected a CSV file: frame,x1,y1,x2,y2[,track_id])", file=path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in reader.fieldnames or []]
        if not columns:
            raise UserInputError("empty file: expected a header line frame,x1,y1,x2,y2[,track_id]", file=path)
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise UserInputError(f"the header has no column {missing[0]!r} (it has {','.join(columns)}; expected "
                                 "frame,x1,y1,x2,y2[,track_id])", file=path, field=missing[0])
        unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise UserInputError(f"unknown column {unknown[0]!r} (expected frame,x1,y1,x2,y2[,track_id])", file=path,
                                 field=unknown[0])
        reader.fieldnames = columns
        tracks: dict[str, dict[int, tuple[float, float, float, float]]] = {}
        for row in reader:
            line = reader.line_num
            if None in row or any(row.get(c) is None for c in columns):
                raise UserInputError(f"line {line}: expected {len(columns)} values ({','.join(columns)})", file=path,
                                     field="line")
            frame = _frame(row["frame"].strip(), path, line, num_frames)
            x1, y1, x2, y2 = (_number(row[c].strip(), path, line, c) for c in ("x1", "y1", "x2", "y2"))
            if x2 <= x1 or y2 <= y1:
                raise UserInputError(f"line {line}: an empty box ({x1:g}, {y1:g}, {x2:g}, {y2:g}): expected x1 < x2 and "
                                     "y1 < y2", file=path, field="x2" if x2 <= x1 else "y2")
            track = (row.get("track_id") or "").strip() or DEFAULT_TRACK
            boxes = tracks.setdefault(track, {})
            if frame in boxes:
                raise UserInputError(f"line {line}: track {track!r} has a second box at frame {frame}", file=path,
                                     field="frame")
            boxes[frame] = (x1, y1, x2, y2)
    if not tracks:
        raise UserInputError("no boxes: the file has a header but no rows", file=path)
    return [_interpolated(t, rows) for t, rows in tracks.items()]


def write_tracks(path: str | Path, tracks: dict[str, list[tuple[int, float, float, float, float]]]) -> None:
    """Write ``{track_id: [(frame, x1, y1, x2, y2), ...]}`` in the format :func:`read_tracks` reads."""
    from egot2.utils.atomic import atomic_open

    with atomic_open(path, "w") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow([*REQUIRED, *OPTIONAL])
        for track, rows in tracks.items():
            for frame, x1, y1, x2, y2 in rows:
                out.writerow([frame, repr(float(x1)), repr(float(y1)), repr(float(x2)), repr(float(y2)), track])
