"""Evaluation of LAM and TTM from the official ``pred.csv`` row formats (no header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from egot2.data.annotations import load_av
from egot2.errors import UserInputError
from egot2.evaluation.checks import blame, check_coverage, examples, index_unique
from egot2.evaluation.readers import CsvRow, read_csv_rows
from egot2.metrics import accuracy_at_threshold, lam_rows, ttm_rows, two_class_map

Result = tuple[dict[str, float], dict[str, int]]

LAM_COLUMNS = ("clip_uid", "frame", "x1", "y1", "x2", "y2", "track_id", "label", "score")
TTM_COLUMNS = ("clip_uid", "idx", "start_frame", "end_frame", "label", "score")
#: Largest allowed difference between a predicted LAM box coordinate and the derived one.
BOX_TOLERANCE = 1e-9


def _lam_entry(row: CsvRow) -> tuple[str, str, tuple[tuple[float, ...], float, CsvRow]]:
    clip_uid, frame, track_id = row.text(0), row.integer(1), row.text(6)
    box = tuple(row.number(c) for c in (2, 3, 4, 5))
    row.one(7)
    return f"{clip_uid}:{frame}:{track_id}", f"line {row.line}", (box, row.score(8), row)


def evaluate_lam(annotations: Path, predictions: Path, *, allow_extra: bool, **_: Any) -> Result:
    """LAM two-class mAP and accuracy@0.5 over the derived rows (stride 13)."""
    with blame(annotations):
        rows = lam_rows(load_av(annotations))
    given = index_unique((_lam_entry(r) for r in read_csv_rows(predictions, LAM_COLUMNS, header=False)),
                         path=predictions)
    check_coverage([r.key for r in rows], given, path=predictions, allow_extra=allow_extra, what="row")
    mismatched = []
    for r in rows:
        box, _, line = given[r.key]
        expected = (r.x1, r.y1, r.x2, r.y2)
        if any(abs(a - b) > BOX_TOLERANCE for a, b in zip(box, expected)):
            mismatched.append(f"line {line.line} {r.key}: given {box}, derived {expected}")
    if mismatched:
        raise UserInputError(
            f"{len(mismatched)} rows have a box that differs from the box derived from the annotations "
            f"(tolerance {BOX_TOLERANCE:g}), first: {examples(mismatched, str)}", file=predictions)
    scores = [given[r.key][1] for r in rows]
    labels = [r.label for r in rows]
    result = two_class_map(scores, labels)
    return ({"map": result.map, "acc": accuracy_at_threshold(scores, labels)},
            {"num_rows": len(rows), "num_positive": sum(labels)})


def _ttm_entry(row: CsvRow) -> tuple[tuple[str, int], str, tuple[int, int, float, CsvRow]]:
    key = (row.text(0), row.integer(1))
    start, end = row.integer(2), row.integer(3)
    row.one(4)
    return key, f"line {row.line}", (start, end, row.score(5), row)


def _fmt_segment(key: tuple[str, int]) -> str:
    return f"{key[0]}:{key[1]}"


def evaluate_ttm(annotations: Path, predictions: Path, *, allow_extra: bool, **_: Any) -> Result:
    """TTM two-class mAP and accuracy@0.5 over the derived segments, joined on (clip_uid, idx)."""
    with blame(annotations):
        rows = ttm_rows(load_av(annotations))
    given = index_unique((_ttm_entry(r) for r in read_csv_rows(predictions, TTM_COLUMNS, header=False)),
                         path=predictions, fmt=_fmt_segment)
    keys = [(r.clip_uid, r.idx) for r in rows]
    check_coverage(keys, given, path=predictions, allow_extra=allow_extra, what="segment", fmt=_fmt_segment)
    mismatched = [
        f"line {given[k][3].line} {_fmt_segment(k)}: given {given[k][0]}..{given[k][1]}, "
        f"derived {r.start_frame}..{r.end_frame}"
        for k, r in zip(keys, rows) if given[k][:2] != (r.start_frame, r.end_frame)
    ]
    if mismatched:
        raise UserInputError(
            f"{len(mismatched)} segments have start/end frames that differ from the derived ones, first: "
            f"{examples(mismatched, str)}", file=predictions)
    scores = [given[k][2] for k in keys]
    labels = [r.label for r in rows]
    result = two_class_map(scores, labels)
    return ({"map": result.map, "acc": accuracy_at_threshold(scores, labels)},
            {"num_segments": len(rows), "num_positive": sum(labels)})
