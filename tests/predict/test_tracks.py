"""The tracks file of ``egot2 predict``: parsing, interpolation, and an error naming the file, line and
column for every malformed input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from egot2.errors import UserInputError
from egot2.predict.tracks import read_tracks, write_tracks


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "tracks.csv"
    f.write_text(text)
    return f


def test_tracks_in_file_order_with_gaps_interpolated(tmp_path: Path) -> None:
    f = _write(tmp_path, "track_id,frame,x1,y1,x2,y2\n"
                         "b,5,0,0,10,10\n"
                         "a,10,0,0,10,10\n"
                         "a,13,3,6,13,16\n"
                         "b,6,1,1,11,11\n")
    b, a = read_tracks(f)
    assert (a.track_id, b.track_id) == ("a", "b")
    assert a.frames == (10, 11, 12, 13) and b.frames == (5, 6)
    np.testing.assert_allclose(a.boxes[1:3], [[1, 2, 11, 12], [2, 4, 12, 14]])  # linear between frames 10 and 13
    assert a.box(13) == (3.0, 6.0, 13.0, 16.0)
    cut = a.within(11, 13)
    assert cut is not None and cut.frames == (11, 12) and a.within(20, 30) is None


def test_track_id_column_is_optional(tmp_path: Path) -> None:
    (track,) = read_tracks(_write(tmp_path, "frame,x1,y1,x2,y2\n0,1,2,3,4\n"))
    assert track.track_id == "0" and track.frames == (0,)


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    rows = {"p1": [(3, 1.5, 2.25, 10.0, 20.0), (4, 1.0, 2.0, 11.0, 21.0)], "p2": [(0, 0.1, 0.2, 0.3, 0.4)]}
    write_tracks(tmp_path / "t.csv", rows)
    tracks = read_tracks(tmp_path / "t.csv")
    assert {t.track_id: [(f, *t.box(f)) for f in t.frames] for t in tracks} == rows


@pytest.mark.parametrize(("text", "field", "message"), [
    ("frame,x1,y1,x2\n0,1,2,3\n", "y2", "the header has no column 'y2'"),
    ("frame,x1,y1,x2,y2,score\n0,1,2,3,4,0.9\n", "score", "unknown column 'score'"),
    ("frame,x1,y1,x2,y2\n0,1,2,3,4\n1,1,two,3,4\n", "y1", "line 3: expected a number, got 'two'"),
    ("frame,x1,y1,x2,y2\n0,1,2,3,nan\n", "y2", "line 2: expected a finite number"),
    ("frame,x1,y1,x2,y2\n1.5,1,2,3,4\n", "frame", "line 2: expected a frame number (an integer >= 0), got '1.5'"),
    ("frame,x1,y1,x2,y2\n-1,1,2,3,4\n", "frame", "line 2: expected a frame number (an integer >= 0), got -1"),
    ("frame,x1,y1,x2,y2\n0,5,2,3,4\n", "x2", "line 2: an empty box"),
    ("frame,x1,y1,x2,y2\n0,1,2,3,4\n0,1,2,3,4\n", "frame", "line 3: track '0' has a second box at frame 0"),
    ("frame,x1,y1,x2,y2\n0,1,2,3\n", "line", "line 2: expected 5 values"),
    ("frame,x1,y1,x2,y2\n0,1,2,3,4,5\n", "line", "line 2: expected 5 values"),
    ("frame,x1,y1,x2,y2\n400,1,2,3,4\n", "frame", "line 2: frame 400 (13.33 s at 30 fps) lies beyond the video's end"),
])
def test_malformed_files_name_file_line_and_column(tmp_path: Path, text: str, field: str, message: str) -> None:
    f = _write(tmp_path, text)
    with pytest.raises(UserInputError) as info:
        read_tracks(f, num_frames=300)
    assert info.value.file == str(f) and info.value.field == field
    assert message in info.value.detail


@pytest.mark.parametrize(("text", "message"), [("", "empty file"), ("frame,x1,y1,x2,y2\n", "no boxes")])
def test_empty_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        read_tracks(_write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="tracks file not found") as info:
        read_tracks(tmp_path / "none.csv")
    assert info.value.file == str(tmp_path / "none.csv")
