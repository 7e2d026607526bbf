"""Evaluation of ASD from egot2's detection CSV: detection mAP and frame accuracy."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from egot2.data.annotations import load_av
from egot2.errors import UserInputError
from egot2.evaluation.checks import EvaluationWarning, blame, check_coverage, examples, index_unique
from egot2.evaluation.readers import CsvRow, read_csv_rows
from egot2.metrics import AsdDetection, asd_detection_map, asd_face_frames, asd_frame_accuracy
from egot2.metrics.asd import person_number

Result = tuple[dict[str, float], dict[str, int]]

ASD_COLUMNS = ("clip_uid", "frame", "person_id", "x1", "y1", "x2", "y2", "score")
#: ``person_id`` of a detection not linked to an annotated person.
UNLINKED = -1

FaceKey = tuple[str, int, int]


def _fmt_face(key: FaceKey) -> str:
    return f"{key[0]}:{key[1]}:{key[2]}"


def _detection(row: CsvRow) -> AsdDetection:
    return AsdDetection(row.text(0), row.integer(1), row.integer(2), *(row.number(c) for c in (3, 4, 5, 6)),
                        row.score(7))


def _drop_unknown(rows: list[tuple[CsvRow, AsdDetection]], persons: dict[str, set[int]], path: Path,
                  allow_extra: bool) -> list[tuple[CsvRow, AsdDetection]]:
    """Rows of unknown clips or persons are an error, or dropped with a warning under ``allow_extra``."""
    unknown = [f"line {r.line} ({d.clip_uid}:{d.frame}:{d.person_id})" for r, d in rows
               if d.clip_uid not in persons or (d.person_id != UNLINKED and d.person_id not in persons[d.clip_uid])]
    if not unknown:
        return rows
    message = (f"{len(unknown)} detections of clips or persons that are not in the annotations, first: "
               f"{examples(unknown, str)}")
    if not allow_extra:
        raise UserInputError(message + " (--allow-extra ignores them)", file=path)
    warnings.warn(EvaluationWarning(f"{path}: {message}; ignored (--allow-extra)"), stacklevel=3)
    return [(r, d) for r, d in rows
            if d.clip_uid in persons and (d.person_id == UNLINKED or d.person_id in persons[d.clip_uid])]


def evaluate_asd(annotations: Path, predictions: Path, *, allow_extra: bool, **_: Any) -> Result:
    """ASD detection mAP (IoU >= 0.5, +1 pixel convention) and frame accuracy (score > 0.5)."""
    with blame(annotations):
        clips = load_av(annotations)
        persons = {c.clip_uid: {person_number(p.person_id, c.clip_uid) for p in c.persons} for c in clips}
        items = asd_face_frames(clips)
    rows = [(r, _detection(r)) for r in read_csv_rows(predictions, ASD_COLUMNS, header=True)]
    rows = _drop_unknown(rows, persons, predictions, allow_extra)
    linked = index_unique((((d.clip_uid, d.frame, d.person_id), f"line {r.line}", d) for r, d in rows
                           if d.person_id != UNLINKED), path=predictions, fmt=_fmt_face)
    keys = [(i.clip_uid, i.frame, int(i.person_id)) for i in items]
    # Linked detections that are not face frames are still detections for the mAP: no extra check here.
    check_coverage(keys, {k: linked[k] for k in keys if k in linked}, path=predictions, allow_extra=True,
                   what="face frame", fmt=_fmt_face)
    acc = asd_frame_accuracy([linked[k].score for k in keys], [i.label for i in items])
    with blame(annotations):
        result = asd_detection_map([d for _, d in rows], clips)
    return ({"map": result.map, "acc": acc},
            {"num_gt_speaking_boxes": result.num_gt_speaking_boxes, "num_detections": result.num_detections,
             "num_face_frames": len(items), "num_speaking_face_frames": sum(i.label for i in items)})
