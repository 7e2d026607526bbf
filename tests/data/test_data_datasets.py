"""Task datasets over the tiny synthetic world: keys, shapes, labels, ids, test splits, bad files."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from egot2.data.annotations import load_av, load_lta, load_oscc_pnr
from egot2.data.check import check_data
from egot2.data.collate import collate
from egot2.data.datasets import build_dataset, skip_report
from egot2.data.samplers import nearest_index, pnr_frame_indices
from egot2.errors import UserInputError
from egot2.metrics.asd_frames import asd_face_frames
from egot2.metrics.lam import lam_rows
from egot2.metrics.lta_windows import lta_windows
from egot2.metrics.ttm import ttm_rows
from egot2.synth.encode import write_video

S_HOI, S_FACE = 64, 32  # the synth profile's sizes

EXPECTED = {  # backbones/base.py input keys (one sample, no batch dim); None = variable length
    "pnr": {"video": (3, 16, S_HOI, S_HOI), "label": ()},
    "oscc": {"video": (3, 16, S_HOI, S_HOI), "label": ()},
    "ar": {"slow": (3, 8, S_HOI, S_HOI), "fast": (3, 32, S_HOI, S_HOI), "verb": (), "noun": ()},
    "lta": {"slow": (2, 3, 8, S_HOI, S_HOI), "fast": (2, 3, 32, S_HOI, S_HOI), "verb": (20,), "noun": (20,)},
    "lam": {"video": (7, 3, S_FACE, S_FACE), "label": ()},
    "ttm": {"video": (None, 3, S_FACE, S_FACE), "audio": (None,), "label": ()},
    "asd": {"video": (None, S_FACE, S_FACE), "audio": (None, 13), "label": (None,)},
}
LABELS = {"pnr": ["label"], "oscc": ["label"], "ar": ["verb", "noun"], "lta": ["verb", "noun"], "lam": ["label"],
          "ttm": ["label"], "asd": ["label"]}


def _shape_ok(t: torch.Tensor, want: tuple) -> bool:
    return t.dim() == len(want) and all(w is None or s == w for s, w in zip(t.shape, want))


@pytest.mark.parametrize("task", list(EXPECTED))
def test_items_have_the_backbone_keys_and_shapes(world_template: Path, task: str) -> None:
    ds = build_dataset(task, world_template, "val")
    assert len(ds) > 0
    item = ds[0]
    for key, shape in EXPECTED[task].items():
        assert _shape_ok(item[key], shape), (key, tuple(item[key].shape), shape)
        assert torch.isfinite(item[key].float()).all()
    assert isinstance(item["key"], str)
    if task == "ttm":
        assert item["audio"].shape[0] == round(item["video"].shape[0] * 16000 / 30)
    if task == "asd":
        t = item["video"].shape[0]
        assert item["audio"].shape[0] == 4 * t and item["label"].shape == (t,) and item["frames"].shape == (t,)


@pytest.mark.parametrize("task", list(EXPECTED))
def test_test_split_has_no_labels(world_template: Path, task: str) -> None:
    ds = build_dataset(task, world_template, "test")
    assert len(ds) > 0
    item = ds[0]
    assert not set(LABELS[task]) & set(item)
    assert set(EXPECTED[task]) - set(LABELS[task]) <= set(item)


def test_pnr_and_oscc_labels_follow_the_annotations(world_template: Path) -> None:
    clips = {c.unique_id: c for c in load_oscc_pnr(world_template / "annotations/fho_oscc-pnr_train.json")}
    pnr = build_dataset("pnr", world_template, "train")
    assert len(pnr) == sum(c.state_change for c in clips.values()) > 0  # positives only
    for i in range(len(pnr)):
        item = pnr.items[i]
        c = clips[item.key]
        frames = pnr_frame_indices(c.parent_start_frame, c.parent_end_frame)
        assert item.data["frames"] == frames and item.data["label"] == nearest_index(frames, c.parent_pnr_frame)
    oscc = build_dataset("oscc", world_template, "train")
    assert len(oscc) == len(clips)
    assert [it.data["label"] for it in oscc.items] == [int(clips[it.key].state_change) for it in oscc.items]


def test_ar_and_lta_keys_and_labels(world_template: Path) -> None:
    tax = json.loads((world_template / "annotations/fho_lta_taxonomy.json").read_text())
    from egot2.data.annotations import LtaTaxonomy

    actions = load_lta(world_template / "annotations/fho_lta_val.json",
                       taxonomy=LtaTaxonomy(tuple(tax["verbs"]), tuple(tax["nouns"])))
    ar = build_dataset("ar", world_template, "val")
    assert [it.key for it in ar.items] == [a.key for a in actions]
    item = ar[0]
    assert (int(item["verb"]), int(item["noun"])) == (actions[0].verb_label, actions[0].noun_label)
    assert torch.equal(item["slow"], item["fast"][:, [0, 4, 8, 13, 17, 22, 26, 31]])
    lta = build_dataset("lta", world_template, "val")
    windows = lta_windows(actions)
    assert [it.key for it in lta.items] == [w.key for w in windows]
    assert lta[0]["verb"].tolist() == windows[0].future_verbs


def test_social_ids_match_the_metric_rows(world_template: Path) -> None:
    clips = load_av(world_template / "annotations/av_val.json")
    lam = build_dataset("lam", world_template, "val")
    rows = lam_rows(clips)
    assert [it.key for it in lam.items] == [r.key for r in rows]
    assert [it.data["label"] for it in lam.items] == [r.label for r in rows]
    item = lam[3]
    assert item["box"].tolist() == [rows[3].x1, rows[3].y1, rows[3].x2, rows[3].y2]
    ttm = build_dataset("ttm", world_template, "val")
    segs = {f"{r.clip_uid}:{r.idx}": r.label for r in ttm_rows(clips)}
    assert {it.key for it in ttm.items} == set(segs)
    assert all(it.data["label"] == segs[it.key] for it in ttm.items)
    asd = build_dataset("asd", world_template, "val")
    frames = [(it.data["clip_uid"], f, it.data["person_id"], lab)
              for it in asd.items for f, lab in zip(it.data["frames"], it.data["label"])]
    assert frames == [(x.clip_uid, x.frame, x.person_id, x.label) for x in asd_face_frames(clips)]


def test_lam_label_is_visible_in_the_crops(world_template: Path) -> None:
    """Planted cue: crops of faces looking at the wearer differ from those looking away (pupils, head turn)."""
    lam = build_dataset("lam", world_template, "train", stride=5)
    pos = torch.stack([lam[i]["video"][3] for i, it in enumerate(lam.items) if it.data["label"] == 1][:20])
    neg = torch.stack([lam[i]["video"][3] for i, it in enumerate(lam.items) if it.data["label"] == 0][:20])
    assert len(pos) >= 5 and len(neg) >= 5
    within = (pos - pos.mean(0)).abs().mean() + (neg - neg.mean(0)).abs().mean()
    between = (pos.mean(0) - neg.mean(0)).abs().mean()
    assert between > 0.05 * within


def test_collate_pads_variable_lengths(world_template: Path) -> None:
    ds = build_dataset("ttm", world_template, "val")
    lengths = sorted({it.data["end"] - it.data["start"] + 1 for it in ds.items})
    assert len(lengths) > 1
    a = next(i for i, it in enumerate(ds.items) if it.data["end"] - it.data["start"] + 1 == lengths[0])
    b = next(i for i, it in enumerate(ds.items) if it.data["end"] - it.data["start"] + 1 == lengths[-1])
    batch = collate([ds[a], ds[b]])
    assert batch["video"].shape[:2] == (2, lengths[-1]) and batch["video_lengths"].tolist() == [lengths[0], lengths[-1]]
    assert torch.all(batch["video"][0, lengths[0]:] == 0) and batch["skipped"] == []
    asd = build_dataset("asd", world_template, "val")
    batch = collate([asd[0], asd[len(asd) - 1]])
    assert batch["label"].shape[0] == 2 and batch["audio"].shape[1] == 4 * batch["video"].shape[1]


def _first_video(world: Path, task: str) -> Path:
    return build_dataset(task, world, "val").items[0].video.path


def test_missing_video_raises_naming_file_and_clip(world: Path) -> None:
    path = _first_video(world, "oscc")
    path.unlink()
    with pytest.raises(UserInputError, match="not found") as exc:
        build_dataset("oscc", world, "val")
    assert str(path) in str(exc.value) and "clip '" in str(exc.value)


def test_skip_bad_skips_and_reports_every_item(world: Path) -> None:
    full = build_dataset("oscc", world, "val")
    path = _first_video(world, "oscc")
    lost = [it.key for it in full.items if it.video.path == path]
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    ds = build_dataset("oscc", world, "val", skip_bad=True)
    assert len(ds) == len(full) - len(lost) and [s.key for s in ds.skipped] == lost
    report = skip_report([ds])
    assert all(k in report for k in lost) and "truncated" in report
    with pytest.raises(UserInputError, match="truncated"):
        build_dataset("oscc", world, "val")


def test_a_file_going_bad_after_construction_is_skipped_and_reported(world: Path) -> None:
    ds = build_dataset("ar", world, "val", skip_bad=True)
    path = ds.items[0].video.path
    path.write_bytes(path.read_bytes()[:1000])
    marker = ds[0]
    assert marker["skipped"] == ds.items[0].key and "truncated" in marker["reason"]
    batch = collate([marker, ds[0]])
    assert batch["skipped"] == [(ds.items[0].key, marker["reason"])] * 2 and "slow" not in batch
    assert [s.key for s in ds.skipped] == [ds.items[0].key] * 2


def test_av_task_needs_an_audio_stream(world: Path) -> None:
    path = _first_video(world, "ttm")
    frames = [np.zeros((96, 128, 3), np.uint8)] * 300
    write_video(path, frames, width=128, height=96)  # same length, no audio
    with pytest.raises(UserInputError, match="no audio stream") as exc:
        build_dataset("ttm", world, "val")
    assert str(path) in str(exc.value)
    assert len(build_dataset("lam", world, "val")) > 0  # video-only LAM is fine


def test_clip_beyond_the_video_end(world: Path) -> None:
    full = len(build_dataset("lam", world, "val"))
    path = _first_video(world, "lam")
    write_video(path, [np.zeros((96, 128, 3), np.uint8)] * 100, width=128, height=96, audio=np.zeros(60000, np.float32))
    with pytest.raises(UserInputError, match="beyond the video's end") as exc:
        build_dataset("lam", world, "val")
    assert "clip '" in str(exc.value) and str(path) in str(exc.value)
    report = check_data(world, tasks=["lam", "asd"], splits=["val"])
    lam = report["lam/val"]
    assert 0 < lam["items"] < full and lam["items"] + len(lam["skipped"]) == full
    assert all("beyond the video's end" in reason for _, reason in lam["skipped"])
    assert all("audio" in reason for _, reason in report["asd/val"]["skipped"])


def test_bad_file_gives_exit_code_2_from_the_cli(world: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that loads a dataset turns a bad video into a one-line error and exit code 2."""
    import egot2.cli as cli

    cmd = types.ModuleType("probe_cmd")
    cmd.NAME, cmd.HELP = "probe-data", "test command"
    cmd.add_arguments = lambda p: p.add_argument("root")
    cmd.run = lambda args: len(build_dataset("oscc", args.root, "val")) and 0
    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, cmd])
    monkeypatch.setitem(sys.modules, "probe_cmd", cmd)
    path = _first_video(world, "oscc")
    path.unlink()
    assert cli.main(["probe-data", str(world)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not found" in err and "Traceback" not in err


def test_root_may_be_the_folder_above_v1(world_template: Path, tmp_path: Path) -> None:
    (tmp_path / "ego4d").mkdir()
    shutil.copytree(world_template / "annotations", tmp_path / "ego4d/v1/annotations")
    (tmp_path / "ego4d/v1/full_scale").symlink_to(world_template / "full_scale")
    ds = build_dataset("oscc", tmp_path / "ego4d", "val", profile="synth")
    assert ds[0]["video"].shape == (3, 16, 64, 64)
    with pytest.raises(UserInputError, match="annotations"):
        build_dataset("oscc", tmp_path, "val")


def _colour(i: int) -> tuple[int, int, int]:
    return (20 + 24 * (i % 9), 20 + 24 * (i // 9 % 9), 20 + 24 * (i // 81))


def _which(frames: torch.Tensor) -> list[int]:
    """Frame numbers of (T, 3, H, W) 0-255 crops/frames by their mean colour."""
    colours = np.array([_colour(i) for i in range(400)], float)
    means = frames.float().mean((-1, -2)).numpy()  # (T, 3)
    return [int(np.argmin(np.abs(colours - m).sum(1))) for m in means]


def _numbered_video(path: Path, n: int, audio: bool = False) -> None:
    frames = [np.broadcast_to(np.array(_colour(i), np.uint8), (32, 32, 3)).copy() for i in range(n)]
    write_video(path, frames, width=32, height=32, audio=np.zeros(n * 16000 // 30, np.float32) if audio else None)


def _json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_clip_offsets_in_canonical_videos_and_clip_files(tmp_path: Path) -> None:
    """An LTA clip starting at frame 30 of its video, and a clips/<clip_uid>.mp4 taking precedence."""
    from egot2.data.transforms import FrameTransform

    _numbered_video(tmp_path / "full_scale/v1.mp4", 300)
    action = {"clip_uid": "c1", "video_uid": "v1", "action_idx": 0, "action_clip_start_sec": 0.0,
              "action_clip_end_sec": 64 / 30, "action_clip_start_frame": 0, "action_clip_end_frame": 64,
              "clip_parent_start_frame": 30, "verb_label": 1, "noun_label": 2}
    _json(tmp_path / "annotations/fho_lta_val.json", {"clips": [action]})
    raw = FrameTransform(32, scale=1.0)
    ar = build_dataset("ar", tmp_path, "val", transform=raw)
    assert _which(ar[0]["fast"].transpose(0, 1)) == list(range(30, 94, 2))  # offset 30, rate 2
    (tmp_path / "clips").mkdir()
    _numbered_video(tmp_path / "clips/c1.mp4", 100)
    ar = build_dataset("ar", tmp_path, "val", transform=raw)
    assert _which(ar[0]["fast"].transpose(0, 1)) == list(range(0, 64, 2))


def test_av_clip_offset(tmp_path: Path) -> None:
    from egot2.data.transforms import FrameTransform

    _numbered_video(tmp_path / "full_scale/v2.mp4", 200, audio=True)
    track = [{"frame": f, "x": 0.0, "y": 0.0, "width": 32.0, "height": 32.0} for f in range(1, 60)]
    clip = {"clip_uid": "c2", "video_uid": "v2", "video_start_frame": 100, "social_segments_talking": [],
            "social_segments_looking": [{"start_frame": 1, "end_frame": 20, "person": "1", "target": None}],
            "persons": [{"person_id": "0", "tracking_paths": [], "voice_segments": []},
                        {"person_id": "1", "tracking_paths": [{"track_id": "t1", "track": track}],
                         "voice_segments": [{"start_frame": 10, "end_frame": 30}]}]}
    _json(tmp_path / "annotations/av_val.json", {"videos": [{"video_uid": "v2", "clips": [clip]}]})
    lam = build_dataset("lam", tmp_path, "val", transform=FrameTransform(8, scale=1.0))
    assert [it.data["frame"] for it in lam.items] == [1, 14, 27, 40, 53]
    item = lam[1]
    assert item["key"] == "c2:14:t1" and int(item["label"]) == 1
    assert _which(item["video"]) == [100 + f for f in range(11, 18)]
    asd = build_dataset("asd", tmp_path, "val", transform=FrameTransform(8, scale=1.0, grey=True))
    chunk = asd[0]
    assert chunk["frames"].tolist() == list(range(1, 60)) and chunk["label"].tolist() == [
        int(10 <= f <= 30) for f in range(1, 60)]
    luma = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in (_colour(100 + f) for f in range(1, 60))]
    assert np.allclose(chunk["video"].mean((1, 2)).numpy(), luma, atol=4)  # grey crops of frames 101..159
