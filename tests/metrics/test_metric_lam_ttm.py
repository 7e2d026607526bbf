"""LAM row derivation and TTM segment derivation, hand-worked."""

from __future__ import annotations

import pytest

from egot2.errors import UserInputError
from egot2.metrics import LamRow, lam_rows, lam_track_boxes, ttm_end_frame, ttm_rows
from metrics.records import box, clip, person, seg, track


def _lam_clip(looking=(), person_id: str = "1"):
    t1 = track("t1", [
        box(5, x=-3, y=2, w=10, h=20),  # clamped x: (0, 2, 10, 22); width kept, so x2 = 0 + 10
        box(1, x=0, y=0, w=10, h=10),   # (0, 0, 10, 10)
        box(3, x=0, y=0, w=0, h=10),    # width 0: dropped (but frame 3 comes back by interpolation)
        box(0, x=0, y=0, w=10, h=10),   # frame 0: dropped
    ])
    wearer = person("0", [track("w", [box(1), box(2)])])  # persons[0] is skipped by position
    return clip("c", [wearer, person(person_id, [t1])], looking=list(looking))


def test_track_cleaning_clamps_drops_and_interpolates() -> None:
    # kept frames 1 and 5, span 5 > 2 boxes -> interpolate every coordinate at frames 1..5:
    # y1 0 -> 2 (step .5), y2 10 -> 22 (step 3), x1 = 0, x2 = 10
    got = lam_track_boxes(_lam_clip().persons[1].tracking_paths[0].track, "1")
    assert got == [(1, 0.0, 0.0, 10.0, 10.0), (2, 0.0, 0.5, 10.0, 13.0), (3, 0.0, 1.0, 10.0, 16.0),
                   (4, 0.0, 1.5, 10.0, 19.0), (5, 0.0, 2.0, 10.0, 22.0)]


def test_track_of_a_person_with_empty_id_is_dropped() -> None:
    assert lam_track_boxes([box(1), box(2)], "") == []


def test_lam_rows_stride_and_labels() -> None:
    # stride 2 keeps positions 0, 2, 4 -> frames 1, 3, 5; "1" looks at the wearer in frames 3..4;
    # the null-person segment over 1..5 is ignored
    rows = lam_rows([_lam_clip([seg(3, 4, "1"), seg(1, 5, None)])], stride=2)
    assert rows == [LamRow("c", 1, 0.0, 0.0, 10.0, 10.0, "t1", 0), LamRow("c", 3, 0.0, 1.0, 10.0, 16.0, "t1", 1),
                    LamRow("c", 5, 0.0, 2.0, 10.0, 22.0, "t1", 0)]
    assert rows[1].key == "c:3:t1"


def test_lam_default_stride_is_13() -> None:
    # 30 valid boxes at frames 1..30 -> positions 0, 13, 26 -> frames 1, 14, 27
    c = clip("c", [person("0"), person("1", [track("t", [box(f) for f in range(1, 31)])])])
    assert [r.frame for r in lam_rows([c])] == [1, 14, 27]


def test_lam_person_is_compared_as_an_exact_string() -> None:
    rows = lam_rows([_lam_clip([seg(1, 5, "01")])], stride=1)
    assert [r.label for r in rows] == [0, 0, 0, 0, 0]


def test_lam_clip_without_looking_segments_is_all_negative() -> None:
    assert [r.label for r in lam_rows([_lam_clip()], stride=1)] == [0] * 5


def test_lam_repeated_key_keeps_the_first_row() -> None:
    # persons "1" and "2" both have a track "t" with a box at frame 7; "1" looks at the wearer, "2" not
    c = clip("c", [person("0"), person("1", [track("t", [box(7)])]), person("2", [track("t", [box(7)])])],
             looking=[seg(7, 7, "1")])
    assert [(r.key, r.label) for r in lam_rows([c])] == [("c:7:t", 1)]


def test_ttm_rows_hand_worked() -> None:
    talking = [
        seg(1, 5, None, "0"),        # null person: removed before numbering
        seg(10, 20, "1", "0"),       # idx 0, L 11, target set -> label 1
        seg(30, 40, "0", None),      # idx 1, person 0 -> skipped
        seg(50, 50, "2", None),      # idx 2, L 1 -> skipped
        seg(100, 299, "'3'", "x"),   # idx 3, L 200 -> end min(299, 100 + 150) = 250, label 1
        seg(400, 799, "1", None),    # idx 4, L 400 -> end min(799, 400 + 300) = 700, label 0
        seg(900, 1049, "1", None),   # idx 5, L 150 -> unchanged
    ]
    rows = ttm_rows([clip("c", [person("0")], talking=talking)])
    assert [(r.idx, r.start_frame, r.end_frame, r.label, r.person) for r in rows] == [
        (0, 10, 20, 1, 1), (3, 100, 250, 1, 3), (4, 400, 700, 0, 1), (5, 900, 1049, 0, 1)]


def test_ttm_end_frame() -> None:
    # L = 300: min(299, 0 + 300) = 299; L = 151: min(150, 0 + 150) = 150
    assert ttm_end_frame(0, 299) == 299
    assert ttm_end_frame(0, 150) == 150
    assert ttm_end_frame(5, 154) == 154


def test_ttm_non_numeric_person_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="person 'bob'"):
        ttm_rows([clip("c", [person("0")], talking=[seg(1, 9, "bob")])])
