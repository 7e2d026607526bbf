"""Loading and validating ``av_<split>.json`` into :mod:`~egot2.data.annotations.av_records`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from egot2.data.annotations.av_records import (
    AvCameraWearer,
    AvClip,
    AvPerson,
    SocialSegment,
    TrackBox,
    TrackingPath,
    VoiceSegment,
)
from egot2.data.annotations.fields import Fields, top_level
from egot2.data.annotations.jsonio import read_json
from egot2.errors import UserInputError

_BOX_KEYS = ("frame", "x", "y", "width", "height")


def _is_num(v: Any) -> bool:
    return (type(v) is int) or (type(v) is float and math.isfinite(v))


def _parse_box(raw: Any, parent: Fields, index: int) -> TrackBox:
    # Fast path for the common well-formed box; the checked path below produces the error messages.
    if type(raw) is dict and all(k in raw for k in _BOX_KEYS):
        frame, x, y, w, h = (raw[k] for k in _BOX_KEYS)
        vf, cf = raw.get("video_frame"), raw.get("clip_frame")
        if (type(frame) is int and _is_num(x) and _is_num(y) and _is_num(w) and _is_num(h)
                and (vf is None or type(vf) is int) and (cf is None or type(cf) is int)):
            return TrackBox(frame, float(x), float(y), float(w), float(h), vf, cf)
    f = Fields(raw, file=parent.file, record=parent.record, path=f"{parent.field_path('track')}[{index}]")
    return TrackBox(
        frame=f.integer("frame"), x=f.number("x"), y=f.number("y"), width=f.number("width"),
        height=f.number("height"), video_frame=f.integer("video_frame", required=False),
        clip_frame=f.integer("clip_frame", required=False),
    )


def _parse_track(f: Fields) -> TrackingPath:
    raw_boxes = f.array("track")
    unmapped = f.array("unmapped_frames", required=False)
    return TrackingPath(
        track_id=f.text("track_id"),
        track=tuple(_parse_box(raw, f, i) for i, raw in enumerate(raw_boxes)),
        suspect=f.boolean("suspect", required=False),
        unmapped_frames_count=f.integer("unmapped_frames_count", required=False),
        unmapped_frames=tuple(unmapped or ()),
    )


def _frame_range(f: Fields) -> tuple[int, int]:
    start, end = f.integer("start_frame"), f.integer("end_frame")
    f.check_order("start_frame", start, "end_frame", end)
    return start, end


def _other_numberings(f: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prefix in ("", "video_"):
        s, e = f.number(f"{prefix}start_time", required=False), f.number(f"{prefix}end_time", required=False)
        f.check_order(f"{prefix}start_time", s, f"{prefix}end_time", e)
        out[f"{prefix}start_time"], out[f"{prefix}end_time"] = s, e
    vs, ve = f.integer("video_start_frame", required=False), f.integer("video_end_frame", required=False)
    f.check_order("video_start_frame", vs, "video_end_frame", ve)
    out["video_start_frame"], out["video_end_frame"] = vs, ve
    return out


def _parse_voice(f: Fields) -> VoiceSegment:
    start, end = _frame_range(f)
    return VoiceSegment(start, end, person=f.text("person", required=False), **_other_numberings(f))


def _parse_social(f: Fields, talking: bool) -> SocialSegment:
    start, end = _frame_range(f)
    # "person" must be present (it may be null); "target" matters only for talking segments.
    if not f.has("person"):
        raise f.error("person", "missing field (use null for an unknown person)")
    if talking and not f.has("target"):
        raise f.error("target", "missing field (use null when the talk is not addressed to anyone)")
    return SocialSegment(
        start, end, person=f.text("person", required=False), target=f.text("target", required=False),
        is_at_me=f.boolean("is_at_me", required=False), **_other_numberings(f),
    )


def _parse_person(f: Fields, require_labels: bool) -> AvPerson:
    person_id = f.text("person_id")
    return AvPerson(
        person_id=person_id,
        camera_wearer=f.boolean("camera_wearer", required=False),
        tracking_paths=tuple(_parse_track(t) for t in f.objects("tracking_paths")),
        voice_segments=tuple(_parse_voice(v) for v in f.objects("voice_segments", required=require_labels)),
    )


def _parse_clip(f: Fields, video_uid: str, split: str | None, require_labels: bool) -> AvClip:
    clip_uid = f.text("clip_uid")
    f = f.with_record(f"{f.record} (clip_uid {clip_uid!r})")
    times = {k: f.number(k, required=False) for k in (
        "video_start_sec", "video_end_sec", "parent_start_sec", "parent_end_sec", "clip_start_sec", "clip_end_sec")}
    frames = {k: f.integer(k, required=False) for k in (
        "video_start_frame", "video_end_frame", "clip_start_frame", "clip_end_frame")}
    for prefix in ("video", "parent", "clip"):
        f.check_order(f"{prefix}_start_sec", times[f"{prefix}_start_sec"],
                      f"{prefix}_end_sec", times[f"{prefix}_end_sec"])
    for prefix in ("video", "clip"):
        f.check_order(f"{prefix}_start_frame", frames[f"{prefix}_start_frame"],
                      f"{prefix}_end_frame", frames[f"{prefix}_end_frame"])
    wearer = None
    if f.raw("camera_wearer") is not None:
        w = Fields(f.raw("camera_wearer"), file=f.file, record=f.record, path="camera_wearer")
        wearer = AvCameraWearer(w.text("person_id", required=False),
                                tuple(_parse_voice(v) for v in w.objects("voice_segments", required=False)))
    return AvClip(
        clip_uid=clip_uid,
        video_uid=f.text("video_uid", required=False) or video_uid,
        persons=tuple(_parse_person(p, require_labels) for p in f.objects("persons")),
        social_segments_talking=tuple(
            _parse_social(s, True) for s in f.objects("social_segments_talking", required=require_labels)),
        social_segments_looking=tuple(
            _parse_social(s, False) for s in f.objects("social_segments_looking", required=require_labels)),
        source_clip_uid=f.text("source_clip_uid", required=False),
        valid=f.boolean("valid", required=False),
        split=split,
        camera_wearer=wearer,
        missing_voice_segments=tuple(f.array("missing_voice_segments", required=False) or ()),
        transcriptions=tuple(f.array("transcriptions", required=False) or ()),
        **times,
        **frames,
    )


def load_av(path: str | Path, *, require_labels: bool = True) -> list[AvClip]:
    """Load and validate an Ego4D ``av_<split>.json`` file.

    Args:
        path: the JSON file (``{"videos": [{"video_uid", "split", "clips": [...]}, ...]}``).
        require_labels: demand ``voice_segments`` on every person and both social segment lists on every
            clip (set False for files without labels).

    Returns:
        The clips of all videos, in file order.

    Raises:
        UserInputError: malformed JSON, a missing field, a wrong type, an end before its start or a
            repeated clip_uid; the message names the file, the clip and the field.
    """
    data = read_json(path, what="annotation file")
    clips: list[AvClip] = []
    seen: set[str] = set()
    for v, raw_video in enumerate(top_level(data, "videos", file=path)):
        video = Fields(raw_video, file=path, record=f"videos[{v}]")
        video_uid = video.text("video_uid")
        video = video.with_record(f"videos[{v}] (video_uid {video_uid!r})")
        split = video.text("split", required=False)
        for c, raw_clip in enumerate(video.array("clips")):
            clip = _parse_clip(Fields(raw_clip, file=path, record=f"videos[{v}].clips[{c}]"), video_uid, split,
                               require_labels)
            if clip.clip_uid in seen:
                raise UserInputError(f"videos[{v}].clips[{c}]: clip_uid {clip.clip_uid!r} appears more than once",
                                     file=path, field="clip_uid")
            seen.add(clip.clip_uid)
            clips.append(clip)
    return clips
