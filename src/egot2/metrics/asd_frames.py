"""ASD frame accuracy: EgoT2's validation accuracy over the face frames of TalkNet's ``generate('val')``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from egot2.data.annotations import AvClip, TrackingPath

#: Face tracks are cut into chunks of this many boxes (by list position).
ASD_CHUNK = 300


@dataclass(frozen=True)
class AsdFaceFrame:
    """One scored face frame.

    Args:
        clip_uid, frame, person_id: identify the face (predictions are joined on these three).
        label: 1 if the person speaks in this frame, else 0.
    """

    clip_uid: str
    frame: int
    person_id: str
    label: int


def asd_tracks(clip: AvClip) -> list[tuple[str, TrackingPath, set[int]]]:
    """``(person_id, tracking path, speaking frames)`` of the face tracks EgoT2 scores in ``clip``: no
    "camera_wearer" person, no "visual_anchor" track, a repeated ``track_id`` replacing the earlier
    (as the official dict does), no empty track (the official code crashes on it)."""
    speaking: dict[str, set[int]] = {}
    tracks: dict[str, tuple[str, TrackingPath]] = {}
    for person in clip.persons:
        if person.person_id == "camera_wearer":
            continue
        frames = speaking.setdefault(person.person_id, set())
        for seg in person.voice_segments:
            frames.update(range(seg.start_frame, seg.end_frame + 1))
        for path in person.tracking_paths:
            if "visual_anchor" not in path.track_id:
                tracks[path.track_id] = (person.person_id, path)
    return [(pid, path, speaking[pid]) for pid, path in tracks.values() if path.track]


def asd_face_frames(clips: Iterable[AvClip], chunk: int = ASD_CHUNK) -> list[AsdFaceFrame]:
    """The face frames EgoT2 scores, with their speaking labels.

    Persons whose ``person_id`` is not "camera_wearer" and their tracks whose ``track_id`` does not
    contain "visual_anchor" (a repeated ``track_id`` replaces the earlier track, as the official dict
    does). Each track's boxes, in annotation order, are cut by list position into
    ``ceil((last frame - first frame + 1) / 300)`` chunks of up to 300; chunks with more than one box
    are kept and each of their boxes is an item, labelled 1 if its frame lies in one of that person's
    ``voice_segments`` (inclusive). An empty track is skipped (the official code crashes on it).
    """
    items: list[AsdFaceFrame] = []
    for clip in clips:
        for person_id, path, speaking in asd_tracks(clip):
            boxes = path.track
            span = boxes[-1].frame - boxes[0].frame + 1
            for start in range(0, span, chunk):
                part = boxes[start:start + chunk]
                if len(part) > 1:
                    items.extend(AsdFaceFrame(clip.clip_uid, b.frame, person_id,
                                              int(b.frame in speaking)) for b in part)
    return items


def speaking_from_scores(scores: ArrayLike) -> np.ndarray:
    """Predicted speaking flags: ``score > 0.5`` (``torch.round`` rounds 0.5 to even, i.e. not speaking)."""
    return np.asarray(scores, dtype=np.float64) > 0.5


def asd_frame_accuracy(scores: ArrayLike, labels: ArrayLike) -> float:
    """Micro accuracy over face frames: sum of correct / number of frames.

    Args:
        scores: (N,) speaking probabilities.
        labels: (N,) 0/1 ground truth.

    Returns:
        The accuracy, or NaN for no frames.
    """
    y = np.asarray(labels).astype(bool)
    if y.size == 0:
        return float("nan")
    return int(np.count_nonzero(speaking_from_scores(scores) == y)) / y.size
