"""Cutting a raw video into each task's clips: windows, and samples equal to the task datasets' samples
for the same spans and boxes (the same decoding, sampling and transforms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.data.datasets import build_dataset
from egot2.features.extract import extraction_dataset
from egot2.predict.clips import Plan, clip_frames, memory_dataset, plan_video, task_items, tile
from egot2.predict.tracks import FaceTrack
from predict.worlds import cleaned_tracks, face_track, raw_tracks, social_clip


@pytest.mark.parametrize(("first", "end", "length", "spans"), [
    (0, 258, 240, [(0, 240), (18, 258)]),
    (0, 480, 240, [(0, 240), (240, 480)]),
    (10, 200, 64, [(10, 74), (74, 138), (136, 200)]),
    (5, 69, 64, [(5, 69)]),
    (0, 239, 240, []),
])
def test_tile(first: int, end: int, length: int, spans: list[tuple[int, int]]) -> None:
    assert tile(first, end, length) == spans


def test_clip_lengths_follow_the_task_specs() -> None:
    assert (clip_frames("pnr"), clip_frames("oscc"), clip_frames("ar"), clip_frames("lta")) == (240, 240, 64, 128)


def test_plan_cuts_tracks_to_the_range(tmp_path: Path) -> None:
    import numpy as np

    track = FaceTrack("a", tuple(range(0, 100)), np.zeros((100, 4)) + [0, 0, 10, 10])
    plan = plan_video(tmp_path / "v.mp4", 30, 200, [track, FaceTrack("b", (5,), np.ones((1, 4)))])
    assert plan.clips == [] and plan.actions == [(30, 94), (94, 158), (136, 200)]
    assert plan.observed == [((30, 94), (94, 158)), ((94, 158), (136, 200))]
    assert plan.tracks is not None and [(t.track_id, t.frames[0], t.frames[-1]) for t in plan.tracks] == [("a", 30, 99)]
    assert plan.tracks[0].boxes.shape == (70, 4)
    assert plan_video(tmp_path / "v.mp4", 0, 10, None).tracks is None


def _same(a: dict, b: dict, keys: tuple[str, ...]) -> None:
    for k in keys:
        assert torch.equal(a[k], b[k]), k


def test_hoi_samples_equal_the_datasets(tiny_world: Path) -> None:
    clip = json.loads((tiny_world / "annotations" / "fho_oscc-pnr_val.json").read_text())["clips"][0]
    video = tiny_world / "full_scale" / f"{clip['video_uid']}.mp4"
    span = (clip["parent_start_frame"], clip["parent_end_frame"])
    items, infos = task_items("oscc", Plan(video, *span, [span], [], None))
    ours = memory_dataset("oscc", items, "synth")
    theirs = build_dataset("oscc", tiny_world, "val")
    _same(ours[0], theirs[0], ("video", "frames"))
    assert infos == [{"parent_start_frame": span[0], "parent_end_frame": span[1]}]
    for task in ("ar", "lta"):
        item = extraction_dataset(task, tiny_world, "val").items[0]
        off = item.video.offset
        spans = [(off + s, off + e) for s, e in (item.data["spans"] if task == "lta" else
                                                 [(item.data["start"], item.data["end"])])]
        items, _ = task_items(task, Plan(item.video.path, spans[0][0], spans[-1][1], [], spans, None))
        assert len(items) == 1
        _same(memory_dataset(task, items, "synth")[0], extraction_dataset(task, tiny_world, "val")[0], ("slow", "fast"))


def test_social_samples_equal_the_datasets(tiny_world: Path) -> None:
    video, clip = social_clip(tiny_world)
    raw = [face_track(t, rows) for t, rows in raw_tracks(clip).items()]
    ours = memory_dataset("asd", task_items("asd", Plan(video, 0, 300, [], [], raw))[0], "synth")
    theirs = build_dataset("asd", tiny_world, "val")
    assert len(ours) == len(theirs) == 2
    for i in range(2):
        _same(ours[i], theirs[i], ("video", "audio", "frames"))
    cleaned = cleaned_tracks(clip)
    tracks = [face_track(t, rows) for t, (_, rows) in cleaned.items()]
    lam = memory_dataset("lam", task_items("lam", Plan(video, 0, 300, [], [], tracks))[0], "synth")
    rows = {(s["track_id"], s["frame"]): s for s in (lam[i] for i in range(len(lam)))}
    official = build_dataset("lam", tiny_world, "val")
    assert len(lam) == len(official)
    for i in (0, len(official) - 1):
        s = official[i]
        _same(rows[(s["track_id"], s["frame"])], s, ("video", "box"))
    segment = build_dataset("ttm", tiny_world, "val").items[0]
    person = {p: t for t, (p, _) in cleaned.items()}[str(segment.data["person"])]
    track = next(t for t in tracks if t.track_id == person).within(segment.data["start"], segment.data["end"] + 1)
    (item,), _ = task_items("ttm", Plan(video, 0, 300, [], [], [track]))
    _same(memory_dataset("ttm", [item], "synth")[0], build_dataset("ttm", tiny_world, "val")[0], ("video", "audio"))
