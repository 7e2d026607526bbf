"""Records of the Ego4D audio-visual annotation files ``av_{train,val}.json`` (LAM, TTM, ASD).

Frame numbers are clip-relative at 30 fps; frame ranges are inclusive (``start_frame..end_frame``).
Boxes are ``x, y`` (top-left), ``width``, ``height`` in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TrackBox:
    """One face box of a tracking path.

    Args:
        frame: clip frame number.
        x, y: top-left corner in pixels (JSON integers become exact floats).
        width, height: box size in pixels (may be <= 0 in raw annotations).
        video_frame, clip_frame: the frame in other numberings, when the file has them.
    """

    frame: int
    x: float
    y: float
    width: float
    height: float
    video_frame: int | None = None
    clip_frame: int | None = None


@dataclass(frozen=True, slots=True)
class TrackingPath:
    """One face track of a person.

    Args:
        track_id: the track's id (``visual_anchor`` tracks carry that word in their id).
        track: the boxes in file order (not necessarily sorted by frame).
        suspect, unmapped_frames_count, unmapped_frames: annotation-quality fields, when present.
    """

    track_id: str
    track: tuple[TrackBox, ...]
    suspect: bool | None = None
    unmapped_frames_count: int | None = None
    unmapped_frames: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class VoiceSegment:
    """A stretch of speech of one person.

    Args:
        start_frame, end_frame: inclusive clip frame range.
        start_time, end_time: the same range in seconds, when present.
        person: the speaker's person id, when present.
        video_start_time, video_end_time, video_start_frame, video_end_frame: parent-video numbering.
    """

    start_frame: int
    end_frame: int
    start_time: float | None = None
    end_time: float | None = None
    person: str | None = None
    video_start_time: float | None = None
    video_end_time: float | None = None
    video_start_frame: int | None = None
    video_end_frame: int | None = None


@dataclass(frozen=True, slots=True)
class SocialSegment:
    """An entry of ``social_segments_talking`` or ``social_segments_looking``.

    Args:
        start_frame, end_frame: inclusive clip frame range.
        person: the person who talks or looks (null entries exist and are ignored by the metrics).
        target: whom the talk is addressed to (TTM label: not null means "talking to me").
        is_at_me: the annotation's own flag, when present.
        start_time, end_time, video_start_time, video_end_time, video_start_frame, video_end_frame:
            other numberings, when present.
    """

    start_frame: int
    end_frame: int
    person: str | None
    target: str | None = None
    is_at_me: bool | None = None
    start_time: float | None = None
    end_time: float | None = None
    video_start_time: float | None = None
    video_end_time: float | None = None
    video_start_frame: int | None = None
    video_end_frame: int | None = None


@dataclass(frozen=True, slots=True)
class AvPerson:
    """A person of a clip. In Ego4D files ``persons[0]`` is the camera wearer (``person_id "0"``).

    Args:
        person_id: the id as written (a string such as "1").
        camera_wearer: whether this person wears the camera, when present.
        tracking_paths: the person's face tracks.
        voice_segments: when the person speaks.
    """

    person_id: str
    camera_wearer: bool | None
    tracking_paths: tuple[TrackingPath, ...]
    voice_segments: tuple[VoiceSegment, ...]


@dataclass(frozen=True, slots=True)
class AvCameraWearer:
    """The clip-level ``camera_wearer`` entry.

    Args:
        person_id: the wearer's person id, when present.
        voice_segments: when the wearer speaks.
    """

    person_id: str | None
    voice_segments: tuple[VoiceSegment, ...]


@dataclass(frozen=True, slots=True)
class AvClip:
    """One 5-minute clip of ``av_<split>.json`` with everything LAM, TTM and ASD need.

    Args:
        clip_uid: the clip's id (join key of every prediction format).
        video_uid: the parent video.
        persons: the persons in file order.
        social_segments_talking: TTM segments in file order.
        social_segments_looking: LAM segments in file order.
        source_clip_uid, valid, split: as written, when present.
        video_start_sec, video_end_sec, video_start_frame, video_end_frame: the clip in the parent video.
        parent_start_sec, parent_end_sec: older name of the same window, when present.
        clip_start_sec, clip_end_sec, clip_start_frame, clip_end_frame: the clip's own range.
        camera_wearer: the clip-level wearer entry, when present.
        missing_voice_segments, transcriptions: as decoded, unchecked.
    """

    clip_uid: str
    video_uid: str
    persons: tuple[AvPerson, ...]
    social_segments_talking: tuple[SocialSegment, ...]
    social_segments_looking: tuple[SocialSegment, ...]
    source_clip_uid: str | None = None
    valid: bool | None = None
    split: str | None = None
    video_start_sec: float | None = None
    video_end_sec: float | None = None
    video_start_frame: int | None = None
    video_end_frame: int | None = None
    parent_start_sec: float | None = None
    parent_end_sec: float | None = None
    clip_start_sec: float | None = None
    clip_end_sec: float | None = None
    clip_start_frame: int | None = None
    clip_end_frame: int | None = None
    camera_wearer: AvCameraWearer | None = None
    missing_voice_segments: tuple[Any, ...] = ()
    transcriptions: tuple[Any, ...] = ()
