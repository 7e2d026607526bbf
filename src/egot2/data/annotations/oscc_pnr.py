"""Records of the Ego4D ``fho_oscc-pnr_{train,val,test_unannotated}.json`` files (OSCC and PNR)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from egot2.data.annotations.fields import Fields, top_level
from egot2.data.annotations.jsonio import read_json
from egot2.errors import UserInputError


@dataclass(frozen=True, slots=True)
class OsccPnrClip:
    """One 8 s clip of the hands-and-objects benchmark.

    Frame numbers are frames of the 30 fps canonical parent video. ``state_change`` and
    ``parent_pnr_frame`` are None in test files (no labels); ``parent_pnr_frame`` is None for clips
    without a state change.

    Args:
        unique_id: join key with predictions.
        video_uid: the parent video.
        parent_start_sec, parent_end_sec: the clip window in seconds of the parent video.
        parent_start_frame, parent_end_frame: the same window in frames (inclusive).
        state_change: whether an object changes state in the clip.
        parent_pnr_frame: the point-of-no-return frame (older files call it ``pnr_frame``).
        clip_uid, clip_id, clip_start_sec, clip_end_sec, clip_start_frame, clip_end_frame,
            clip_pnr_frame: the same window relative to the 5-minute clip (informational).
    """

    unique_id: str
    video_uid: str
    parent_start_sec: float
    parent_end_sec: float
    parent_start_frame: int
    parent_end_frame: int
    state_change: bool | None
    parent_pnr_frame: int | None
    clip_uid: str | None = None
    clip_id: int | None = None
    clip_start_sec: float | None = None
    clip_end_sec: float | None = None
    clip_start_frame: int | None = None
    clip_end_frame: int | None = None
    clip_pnr_frame: int | None = None


def _parse_clip(fields: Fields, require_labels: bool) -> OsccPnrClip:
    unique_id = fields.text("unique_id")
    f = fields.with_record(f"{fields.record} (unique_id {unique_id!r})")
    start_sec, end_sec = f.number("parent_start_sec"), f.number("parent_end_sec")
    start_frame, end_frame = f.integer("parent_start_frame"), f.integer("parent_end_frame")
    f.check_order("parent_start_sec", start_sec, "parent_end_sec", end_sec, strict=True)
    f.check_order("parent_start_frame", start_frame, "parent_end_frame", end_frame, strict=True)
    state_change = f.boolean("state_change", required=require_labels)
    pnr_key = "parent_pnr_frame" if f.has("parent_pnr_frame") or not f.has("pnr_frame") else "pnr_frame"
    pnr = f.integer(pnr_key, required=require_labels and state_change is True)
    if pnr is not None and not start_frame <= pnr <= end_frame:
        raise f.error(pnr_key, f"PNR frame {pnr} lies outside its clip "
                               f"[parent_start_frame {start_frame}, parent_end_frame {end_frame}]")
    clip_start_sec, clip_end_sec = f.number("clip_start_sec", required=False), f.number(
        "clip_end_sec", required=False)
    f.check_order("clip_start_sec", clip_start_sec, "clip_end_sec", clip_end_sec)
    clip_start_frame, clip_end_frame = f.integer("clip_start_frame", required=False), f.integer(
        "clip_end_frame", required=False)
    f.check_order("clip_start_frame", clip_start_frame, "clip_end_frame", clip_end_frame)
    return OsccPnrClip(
        unique_id=unique_id,
        video_uid=f.text("video_uid"),
        parent_start_sec=start_sec,
        parent_end_sec=end_sec,
        parent_start_frame=start_frame,
        parent_end_frame=end_frame,
        state_change=state_change,
        parent_pnr_frame=pnr,
        clip_uid=f.text("clip_uid", required=False),
        clip_id=f.integer("clip_id", required=False),
        clip_start_sec=clip_start_sec,
        clip_end_sec=clip_end_sec,
        clip_start_frame=clip_start_frame,
        clip_end_frame=clip_end_frame,
        clip_pnr_frame=f.integer("clip_pnr_frame", required=False),
    )


def load_oscc_pnr(path: str | Path, *, require_labels: bool = True) -> list[OsccPnrClip]:
    """Load and validate an ``fho_oscc-pnr`` annotation file.

    Args:
        path: the JSON file (``{"version", "split", "description", "clips": [...]}``).
        require_labels: demand ``state_change`` on every clip and ``parent_pnr_frame`` on every clip
            with a state change (set False for ``test_unannotated`` files).

    Returns:
        The clips in file order.

    Raises:
        UserInputError: malformed JSON, a missing field, a wrong type, an end before its start, a PNR
            frame outside its clip, or a repeated ``unique_id``; the message names the file, the clip
            and the field.
    """
    data = read_json(path, what="annotation file")
    clips: list[OsccPnrClip] = []
    seen: set[str] = set()
    for i, raw in enumerate(top_level(data, "clips", file=path)):
        clip = _parse_clip(Fields(raw, file=path, record=f"clips[{i}]", path=""), require_labels)
        if clip.unique_id in seen:
            raise UserInputError(f"clips[{i}]: unique_id {clip.unique_id!r} appears more than once",
                                 file=path, field="unique_id")
        seen.add(clip.unique_id)
        clips.append(clip)
    return clips
