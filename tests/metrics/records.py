"""Small builders of AV annotation records for metric tests (imported as ``metrics.records``)."""

from __future__ import annotations

from egot2.data.annotations import AvClip, AvPerson, SocialSegment, TrackBox, TrackingPath, VoiceSegment


def box(frame: int, x: float = 0, y: float = 0, w: float = 10, h: float = 10) -> TrackBox:
    return TrackBox(frame, float(x), float(y), float(w), float(h))


def track(track_id: str, boxes: list[TrackBox]) -> TrackingPath:
    return TrackingPath(track_id, tuple(boxes))


def person(person_id: str, tracks: list[TrackingPath] = (), voice: list[tuple[int, int]] = ()) -> AvPerson:
    return AvPerson(person_id, person_id == "0", tuple(tracks), tuple(VoiceSegment(s, e) for s, e in voice))


def seg(start: int, end: int, person: str | None, target: str | None = None) -> SocialSegment:
    return SocialSegment(start, end, person, target)


def clip(uid: str, persons: list[AvPerson], looking: list[SocialSegment] = (),
         talking: list[SocialSegment] = ()) -> AvClip:
    return AvClip(uid, "video", tuple(persons), tuple(talking), tuple(looking))
