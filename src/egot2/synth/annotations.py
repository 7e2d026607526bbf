"""Annotation writers: plain JSON dicts in exactly Ego4D's schemas (REFERENCE section 3, METRICS.md).

Test files (``*_test_unannotated.json``) carry the same records without labels: no ``state_change`` or
PNR frame, no verb or noun, no voice or looking segments, and talking segments with ``target`` null.
"""

from __future__ import annotations

from typing import Any

from egot2.synth.config import FPS, WorldConfig
from egot2.synth.hoi_plan import LtaClip, OsccClip
from egot2.synth.social_plan import OFFSCREEN, WEARER, SocialClipPlan, TalkSegment

VERSION = "v1"
DATE = "synthetic"  # a fixed string: the same seed and config give byte-identical files
FILE_SPLIT = {"train": "train", "val": "val", "test": "test_unannotated"}


def _sec(frame: int) -> float:
    return round(frame / FPS, 6)


def _header(cfg: WorldConfig, split: str, what: str) -> dict[str, Any]:
    return {"version": VERSION, "date": DATE, "split": FILE_SPLIT[split],
            "description": f"egot2 synthetic world {cfg.name!r} (seed {cfg.seed}): {what}"}


def oscc_pnr_file(cfg: WorldConfig, split: str, clips: list[OsccClip]) -> dict[str, Any]:
    """``fho_oscc-pnr_<split>.json``."""
    labelled = split != "test"
    records = []
    for c in clips:
        r: dict[str, Any] = {
            "unique_id": c.unique_id, "video_uid": c.video_uid, "clip_id": c.clip_id,
            "clip_uid": c.clip_uid if (c.state_change or not labelled) else None,
            "parent_start_sec": _sec(c.start_frame), "parent_end_sec": _sec(c.end_frame),
            "parent_start_frame": c.start_frame, "parent_end_frame": c.end_frame,
            "clip_start_sec": _sec(c.start_frame), "clip_end_sec": _sec(c.end_frame),
            "clip_start_frame": c.start_frame, "clip_end_frame": c.end_frame,
        }
        if labelled:
            r["state_change"] = c.state_change
            r["parent_pnr_frame"] = c.pnr_frame
            r["clip_pnr_frame"] = c.pnr_frame
        records.append(r)
    return {**_header(cfg, split, "object state change and point of no return"), "clips": records}


def lta_taxonomy_file(cfg: WorldConfig) -> dict[str, Any]:
    """``fho_lta_taxonomy.json``: class names, list index = label."""
    return {"verbs": [v.name for v in cfg.taxonomy.verbs], "nouns": [n.name for n in cfg.taxonomy.nouns]}


def lta_file(cfg: WorldConfig, split: str, clips: list[LtaClip]) -> dict[str, Any]:
    """``fho_lta_<split>.json``: one entry per action (AR items; LTA windows of consecutive actions)."""
    labelled = split != "test"
    records = []
    for c in clips:
        for idx, a in enumerate(c.actions):
            r: dict[str, Any] = {
                "clip_uid": c.clip_uid, "video_uid": c.video_uid, "clip_id": c.clip_id, "action_idx": idx,
                "action_clip_start_sec": _sec(a.start), "action_clip_end_sec": _sec(a.end),
                "action_clip_start_frame": a.start, "action_clip_end_frame": a.end,
                "clip_parent_start_sec": 0.0, "clip_parent_end_sec": _sec(c.num_frames),
                "clip_parent_start_frame": 0, "clip_parent_end_frame": c.num_frames,
            }
            if labelled:
                r.update(verb=cfg.taxonomy.verbs[a.verb].name, noun=cfg.taxonomy.nouns[a.noun].name,
                         verb_label=a.verb, noun_label=a.noun)
            records.append(r)
    return {**_header(cfg, split, "actions for AR and LTA"), "clips": records}


def _span(start: int, end: int) -> dict[str, Any]:
    return {"start_time": _sec(start), "end_time": _sec(end), "start_frame": start, "end_frame": end,
            "video_start_time": _sec(start), "video_end_time": _sec(end), "video_start_frame": start,
            "video_end_frame": end}


def _runs(mask: Any) -> list[tuple[int, int]]:
    """Inclusive (start, end) of every run of True in a boolean sequence."""
    out, start = [], None
    for i, v in enumerate(mask):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


def _talk(seg: TalkSegment, labelled: bool) -> dict[str, Any]:
    target = seg.target if labelled else None
    return {**_span(seg.start, seg.end), "person": seg.person, "target": target,
            "is_at_me": (target == WEARER) if labelled else None}


def _av_clip(plan: SocialClipPlan, labelled: bool) -> dict[str, Any]:
    n = plan.num_frames
    voices: dict[str, list[dict[str, Any]]] = {p: [] for p in (WEARER, "1", "2", OFFSCREEN)}
    if labelled:
        for u in plan.utterances:
            voices[u.speaker].append({**_span(u.start, u.end), "person": u.speaker})
    persons = [{"person_id": WEARER, "camera_wearer": True, "tracking_paths": [], "voice_segments": voices[WEARER]}]
    looking = []
    for p in plan.partners:
        track = [{"x": float(b[0]), "y": float(b[1]), "width": float(b[2]), "height": float(b[3]), "frame": f,
                  "video_frame": f, "clip_frame": None} for f, b in enumerate(plan_boxes(p.boxes))]
        persons.append({"person_id": p.person_id, "camera_wearer": False,
                        "tracking_paths": [{"track_id": p.track_id, "track": track, "suspect": False,
                                            "unmapped_frames_count": 0, "unmapped_frames": []}],
                        "voice_segments": voices[p.person_id]})
        if labelled:
            looking += [{**_span(s, e), "person": p.person_id, "target": None, "is_at_me": True}
                        for s, e in _runs(p.looking.tolist())]
    persons.append({"person_id": OFFSCREEN, "camera_wearer": False, "tracking_paths": [],
                    "voice_segments": voices[OFFSCREEN]})
    looking.sort(key=lambda s: (s["start_frame"], s["person"]))
    return {
        "clip_uid": plan.clip_uid, "source_clip_uid": plan.clip_uid, "video_uid": plan.video_uid,
        "video_start_sec": 0.0, "video_end_sec": _sec(n), "video_start_frame": 0, "video_end_frame": n,
        "clip_start_sec": 0.0, "clip_end_sec": _sec(n), "clip_start_frame": 0, "clip_end_frame": n,
        "valid": True,
        "camera_wearer": {"person_id": WEARER, "camera_wearer": True, "voice_segments": voices[WEARER]},
        "persons": persons, "missing_voice_segments": [], "transcriptions": [],
        "social_segments_talking": [_talk(s, labelled) for s in plan.talking],
        "social_segments_looking": looking,
    }


def plan_boxes(boxes: Any) -> list[list[float]]:
    """Boxes as plain Python floats rounded to 1/100 pixel (stable JSON)."""
    return [[round(float(v), 2) for v in b] for b in boxes]


def av_file(cfg: WorldConfig, split: str, plans: list[SocialClipPlan]) -> dict[str, Any]:
    """``av_<split>.json`` (one clip per video)."""
    labelled = split != "test"
    videos = [{"video_uid": p.video_uid, "split": FILE_SPLIT[split], "clips": [_av_clip(p, labelled)]} for p in plans]
    return {**_header(cfg, split, "conversations for LAM, TTM and ASD"), "videos": videos}
