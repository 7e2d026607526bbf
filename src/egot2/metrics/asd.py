"""ASD detection-style mAP (Ego4D audio-visual ``mAP_talknet``: Cartucho/VOC-2012 AP, IoU >= 0.5).

Ground truth: the boxes of speaking faces (``extract_boxes_and_speakers`` -> ``format_ground_truth``).
Detections: every face box with its speaking score (``format_asd``). One class, "speaking".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from egot2.data.annotations import AvClip
from egot2.errors import UserInputError
from egot2.metrics.voc_ap import ranked_ap

#: Frames per 5-minute clip; boxes and detections outside ``0 <= frame < NUM_CLIP_FRAMES`` are ignored.
NUM_CLIP_FRAMES = 9000
#: Minimum IoU for a true positive.
MIN_IOU = 0.5

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class AsdDetection:
    """One face detection with its speaking score, as in a prediction row.

    Args:
        clip_uid, frame: where the face is.
        person_id: the annotated person it belongs to, or -1 (used by the frame accuracy only).
        x1, y1, x2, y2: box corners (floats allowed; the scorer truncates them with ``int()``).
        score: probability in [0, 1] that the face speaks.
    """

    clip_uid: str
    frame: int
    person_id: int
    x1: float
    y1: float
    x2: float
    y2: float
    score: float


def person_number(person_id: str, clip_uid: str) -> int:
    """The official ``int(person_id)``; a non-number is an annotation error."""
    try:
        return int(person_id)
    except ValueError:
        raise UserInputError(f"clip_uid {clip_uid!r}: person_id {person_id!r} is not a number, which ASD needs",
                             field="persons[].person_id") from None


def asd_speaking_boxes(clips: Iterable[AvClip]) -> dict[tuple[str, int], list[Box]]:
    """Ground-truth boxes of speaking faces per ``(clip_uid, frame)``, in annotation order.

    Every person (the camera wearer too) and every tracking path (``visual_anchor`` tracks too); a box
    counts when ``0 <= frame < 9000`` and its person (by ``int(person_id)``) has a voice segment over that
    frame (inclusive, clipped to [0, 9000)). The box is ``(int(x), int(y), int(int(x) + width),
    int(int(y) + height))``.
    """
    out: dict[tuple[str, int], list[Box]] = {}
    for clip in clips:
        voice: dict[int, set[int]] = {}
        for person in clip.persons:
            frames = voice.setdefault(person_number(person.person_id, clip.clip_uid), set())
            for seg in person.voice_segments:
                frames.update(range(max(0, seg.start_frame), min(NUM_CLIP_FRAMES, seg.end_frame + 1)))
        for person in clip.persons:
            speaking = voice[person_number(person.person_id, clip.clip_uid)]
            for path in person.tracking_paths:
                for b in path.track:
                    if 0 <= b.frame < NUM_CLIP_FRAMES and b.frame in speaking:
                        x, y = int(b.x), int(b.y)
                        out.setdefault((clip.clip_uid, b.frame), []).append(
                            (x, y, int(x + b.width), int(y + b.height)))
    return out


def iou_plus1(a: Sequence[float], b: Sequence[float]) -> float | None:
    """IoU with the +1 pixel convention, or None when the boxes do not overlap (iw or ih <= 0)."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if iw <= 0 or ih <= 0:
        return None
    union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - iw * ih
    return iw * ih / union


def greedy_match(ranked: Sequence[tuple[object, Box]], gt: Mapping[object, Sequence[Box]],
                 min_iou: float = MIN_IOU) -> list[bool]:
    """VOC greedy matching of ranked detections; returns the true-positive flag of each.

    A detection takes the single ground-truth box of its image with the largest IoU (the first one on a
    tie). It is a TP if that IoU >= ``min_iou`` and the box is still unused (the box becomes used);
    otherwise, including when that best box is already used, it is an FP: there is no fallback to
    another unused box.

    Args:
        ranked: ``(image key, box)`` per detection, best first.
        gt: ground-truth boxes per image key.
        min_iou: IoU threshold.
    """
    used: dict[object, list[bool]] = {}
    flags: list[bool] = []
    for key, box in ranked:
        boxes = gt.get(key, ())
        best, best_iou = -1, -1.0
        for j, g in enumerate(boxes):
            ov = iou_plus1(box, g)
            if ov is not None and ov > best_iou:
                best, best_iou = j, ov
        hit = False
        if best >= 0 and best_iou >= min_iou:
            marks = used.setdefault(key, [False] * len(boxes))
            if not marks[best]:
                marks[best] = hit = True
        flags.append(hit)
    return flags


@dataclass(frozen=True)
class AsdMap:
    """Result of :func:`asd_detection_map`.

    Args:
        map: the AP of class "speaking" (NaN when there is no ground-truth speaking box).
        num_gt_speaking_boxes: the recall denominator.
        num_detections: detections ranked (frames in [0, 9000) of annotated clips).
        num_true_positives: detections matched to a speaking box.
    """

    map: float
    num_gt_speaking_boxes: int
    num_detections: int
    num_true_positives: int


def asd_detection_map(detections: Sequence[AsdDetection], clips: Sequence[AvClip]) -> AsdMap:
    """The official ASD mAP of ``detections`` against the speaking boxes of ``clips``.

    Detections of clips not in ``clips`` or with a frame outside [0, 9000) are ignored. The confidence is
    the score printed with ``%f``; box coordinates are truncated with ``int()``. Before the stable sort by
    confidence (descending) detections are ordered as the scorer reads its files: by the name
    ``"<clip index>_<frame>.txt"`` in plain string order (clip index = position in ``clips``), then by
    their order in ``detections``.
    """
    gt = asd_speaking_boxes(clips)
    clip_index = {clip.clip_uid: i for i, clip in enumerate(clips)}
    kept = [(f"{clip_index[d.clip_uid]}_{d.frame}.txt", n, d) for n, d in enumerate(detections)
            if d.clip_uid in clip_index and 0 <= d.frame < NUM_CLIP_FRAMES]
    kept.sort(key=lambda t: (t[0], t[1]))
    ranked = sorted(((float(f"{d.score:f}"), (d.clip_uid, d.frame), (int(d.x1), int(d.y1), int(d.x2), int(d.y2)))
                     for _, _, d in kept), key=lambda t: t[0], reverse=True)
    flags = greedy_match([(key, box) for _, key, box in ranked], gt)
    num_gt = sum(len(v) for v in gt.values())
    return AsdMap(map=ranked_ap(flags, num_gt), num_gt_speaking_boxes=num_gt, num_detections=len(flags),
                  num_true_positives=sum(flags))
