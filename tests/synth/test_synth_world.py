"""A generated world: files, schemas, videos, determinism, the CLI."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from egot2.cli import main
from egot2.data.annotations import load_av, load_lta, load_lta_taxonomy, load_oscc_pnr
from egot2.data.video import probe_video
from egot2.errors import UserInputError
from egot2.synth import generate_world, load_world_config
from egot2.synth.generate import plan_world

ANNOTATIONS = [f"{family}_{split}.json" for family in ("fho_oscc-pnr", "fho_lta", "av")
               for split in ("train", "val", "test_unannotated")] + ["fho_lta_taxonomy.json"]


def test_layout(tiny_world: Path) -> None:
    assert sorted(p.name for p in (tiny_world / "annotations").iterdir()) == sorted(ANNOTATIONS)
    assert (tiny_world / "world.yaml").is_file() and (tiny_world / "relations_ground_truth.json").is_file()
    assert asdict(load_world_config(world=tiny_world / "world.yaml")) == asdict(load_world_config("tiny"))


def test_annotations_load_with_the_ego4d_parsers(tiny_world: Path) -> None:
    a = tiny_world / "annotations"
    cfg = load_world_config("tiny")
    tax = load_lta_taxonomy(a / "fho_lta_taxonomy.json")
    assert tax.num_verbs == len(cfg.taxonomy.verbs) and tax.num_nouns == len(cfg.taxonomy.nouns)
    for split, labelled in (("train", True), ("val", True), ("test_unannotated", False)):
        clips = load_oscc_pnr(a / f"fho_oscc-pnr_{split}.json", require_labels=labelled)
        n = getattr(cfg.oscc_pnr.clips, split.split("_")[0])
        assert len(clips) == n
        actions = load_lta(a / f"fho_lta_{split}.json", taxonomy=tax, require_labels=labelled)
        assert len({x.clip_uid for x in actions}) == getattr(cfg.ar_lta.clips, split.split("_")[0])
        av = load_av(a / f"av_{split}.json", require_labels=labelled)
        assert len(av) == getattr(cfg.human_human.clips, split.split("_")[0])
        if labelled:
            assert all(c.parent_end_frame - c.parent_start_frame == 240 for c in clips)
            assert all((c.parent_pnr_frame is not None) == c.state_change for c in clips)
            assert all(p.person_id == "0" and p.camera_wearer for p in (c.persons[0] for c in av))


def test_test_files_carry_no_labels(tiny_world: Path) -> None:
    a = tiny_world / "annotations"
    oscc = json.loads((a / "fho_oscc-pnr_test_unannotated.json").read_text())["clips"]
    assert not {"state_change", "parent_pnr_frame", "clip_pnr_frame"} & set().union(*oscc)
    lta = json.loads((a / "fho_lta_test_unannotated.json").read_text())["clips"]
    assert not {"verb", "noun", "verb_label", "noun_label"} & set().union(*lta)
    for video in json.loads((a / "av_test_unannotated.json").read_text())["videos"]:
        for clip in video["clips"]:
            assert clip["social_segments_looking"] == [] and clip["camera_wearer"]["voice_segments"] == []
            assert all(p["voice_segments"] == [] for p in clip["persons"])
            assert all(s["target"] is None for s in clip["social_segments_talking"])
            assert any(p["tracking_paths"] for p in clip["persons"])


def test_videos(tiny_world: Path) -> None:
    a = tiny_world / "annotations"
    for split in ("train", "val", "test_unannotated"):
        for c in load_oscc_pnr(a / f"fho_oscc-pnr_{split}.json", require_labels=False):
            info = probe_video(tiny_world / "full_scale" / f"{c.video_uid}.mp4")
            assert info.fps == 30 and info.num_frames() > c.parent_end_frame and not info.has_audio
            assert (info.width, info.height) == (64, 64)
        for clip in load_av(a / f"av_{split}.json", require_labels=False):
            info = probe_video(tiny_world / "full_scale" / f"{clip.video_uid}.mp4")
            assert info.has_audio and info.audio_rate == 16000 and info.audio_channels == 1
            assert info.num_frames() == clip.video_end_frame and (info.width, info.height) == (128, 96)
            assert info.audio_duration_s == pytest.approx(info.duration_s, abs=0.1)
    import av

    some = next((tiny_world / "full_scale").glob("*.mp4"))
    with av.open(str(some)) as container:
        assert container.streams.video[0].codec_context.name in ("h264", "mpeg4")


def _annotation_bytes(world: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((world / "annotations").iterdir())} | {
        "relations": (world / "relations_ground_truth.json").read_bytes()}


def test_same_seed_same_bytes_and_another_seed_differs(tiny_world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_world(load_world_config("tiny"), again, workers=2)
    assert _annotation_bytes(again) == _annotation_bytes(tiny_world)
    other_jobs, other = plan_world(load_world_config("tiny", seed=1), tmp_path / "x")
    _, same = plan_world(load_world_config("tiny"), tmp_path / "x")
    assert other["fho_oscc-pnr_train.json"] != same["fho_oscc-pnr_train.json"]
    assert {j.path.name for j in other_jobs}.isdisjoint(p.name for p in (tiny_world / "full_scale").iterdir())


def test_regeneration_replaces_stale_videos_and_refuses_foreign_folders(tmp_path: Path) -> None:
    out = tmp_path / "w"
    cfg = load_world_config("tiny", overrides=["oscc_pnr.clips={train: 1, val: 1, test: 1}",
                                               "human_human.clips={train: 1, val: 1, test: 1}"])
    generate_world(cfg, out, workers=1)
    first = {p.name for p in (out / "full_scale").iterdir()}
    generate_world(load_world_config("tiny", seed=3, overrides=["oscc_pnr.clips={train: 1, val: 1, test: 1}",
                                                                "human_human.clips={train: 1, val: 1, test: 1}"]),
                   out, workers=1)
    second = {p.name for p in (out / "full_scale").iterdir()}
    assert first.isdisjoint(second) and len(second) == len(first)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(UserInputError, match="not empty"):
        generate_world(cfg, foreign, workers=1)
    assert (foreign / "thesis.tex").exists()


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    args = ["synth", "--out", str(out), "--size", "tiny", "--workers", "1", "--seed", "4",
            "oscc_pnr.clips={train: 2, val: 1, test: 1}", "ar_lta.clips={train: 1, val: 1, test: 1}",
            "human_human.clips={train: 1, val: 1, test: 1}"]
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out
    cfg = load_world_config(world=out / "world.yaml")
    assert cfg.seed == 4 and cfg.oscc_pnr.clips.train == 2


def test_cli_bad_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = tmp_path / "w.yaml"
    world.write_text("lam: {gaze_shfit: 0.1}\n")
    assert main(["synth", "--out", str(tmp_path / "o"), "--world", str(world)]) == 2
    err = capsys.readouterr().err
    assert "gaze_shfit" in err and str(world) in err
    assert not (tmp_path / "o").exists()
