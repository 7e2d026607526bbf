"""Builders of small Ego4D-shaped annotation and prediction files (imported as ``evaluation.builders``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def oscc_clip(uid: str, state_change: bool, pnr: int | None = None, start: int = 0, end: int = 240,
              start_sec: float = 0.0, end_sec: float = 8.0, **extra: Any) -> dict[str, Any]:
    clip = {"unique_id": uid, "video_uid": "video", "clip_uid": None if not state_change else f"c-{uid}",
            "clip_id": 1, "parent_start_sec": start_sec, "parent_end_sec": end_sec, "parent_start_frame": start,
            "parent_end_frame": end, "state_change": state_change, "parent_pnr_frame": pnr,
            "clip_start_sec": 0.0, "clip_end_sec": 8.0, "clip_start_frame": 0, "clip_end_frame": 240,
            "clip_pnr_frame": None if pnr is None else pnr - start}
    clip.update(extra)
    return clip


def oscc_file(clips: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "1", "split": "val", "description": "test", "clips": clips}


def lta_action(clip_uid: str, idx: int, verb: int, noun: int, **extra: Any) -> dict[str, Any]:
    action = {"clip_uid": clip_uid, "video_uid": "video", "clip_id": 3, "action_idx": idx,
              "action_clip_start_sec": float(idx), "action_clip_end_sec": idx + 2.0,
              "action_clip_start_frame": 30 * idx, "action_clip_end_frame": 30 * idx + 60,
              "verb": f"verb{verb}", "noun": f"noun{noun}", "verb_label": verb, "noun_label": noun}
    action.update(extra)
    return action


def lta_file(actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "1", "split": "val", "description": "test", "clips": actions}


def av_box(frame: int, x: float = 10, y: float = 20, w: float = 30, h: float = 40) -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "frame": frame, "video_frame": frame + 1000, "clip_frame": None}


def av_track(track_id: str, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"track_id": track_id, "track": boxes, "suspect": False, "unmapped_frames_count": 0,
            "unmapped_frames": []}


def av_voice(start: int, end: int, person: str = "1") -> dict[str, Any]:
    return {"start_time": start / 30, "end_time": end / 30, "start_frame": start, "end_frame": end,
            "video_start_time": start / 30, "video_end_time": end / 30, "video_start_frame": start,
            "video_end_frame": end, "person": person}


def av_person(person_id: str, tracks: list[dict[str, Any]] = (), voice: list[tuple[int, int]] = ()) -> dict[str, Any]:
    return {"person_id": person_id, "camera_wearer": person_id == "0", "tracking_paths": list(tracks),
            "voice_segments": [av_voice(s, e, person_id) for s, e in voice]}


def av_seg(start: int, end: int, person: str | None, target: str | None = None) -> dict[str, Any]:
    return {"start_time": start / 30, "end_time": end / 30, "start_frame": start, "end_frame": end,
            "video_start_time": start / 30, "video_end_time": end / 30, "video_start_frame": start,
            "video_end_frame": end, "person": person, "target": target, "is_at_me": target == "0"}


def av_clip(uid: str, persons: list[dict[str, Any]], looking: list[dict[str, Any]] = (),
            talking: list[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"clip_uid": uid, "source_clip_uid": uid, "video_uid": "video", "video_start_sec": 0.0,
            "video_end_sec": 300.0, "video_start_frame": 0, "video_end_frame": 9000, "clip_start_sec": 0,
            "clip_end_sec": 300.0, "clip_start_frame": 0, "clip_end_frame": 9000, "valid": True,
            "camera_wearer": {"person_id": "0", "camera_wearer": True, "voice_segments": []},
            "persons": [av_person("0"), *persons], "missing_voice_segments": [], "transcriptions": [],
            "social_segments_talking": list(talking), "social_segments_looking": list(looking)}


def av_file(clips: list[dict[str, Any]]) -> dict[str, Any]:
    return {"date": "2022", "version": "1", "description": "test",
            "videos": [{"video_uid": "video", "split": "val", "clips": clips}]}
