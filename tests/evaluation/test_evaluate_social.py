"""``evaluate`` for LAM, TTM and ASD: hand-worked values and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.errors import UserInputError
from egot2.evaluation import EvaluationWarning, evaluate
from evaluation.builders import av_box, av_clip, av_file, av_person, av_seg, av_track, write_json, write_lines


@pytest.fixture
def lam_annotations(tmp_path: Path) -> Path:
    # "1": track t1, frames 1..30 -> rows at 1, 14, 27; "2": track t2, frames 1..14 -> rows at 1, 14
    # every box (10, 20, 30 x 40) -> (10, 20, 40, 60); "1" looks at the wearer in 10..20, "2" in 1..1
    clip = av_clip("c", [av_person("1", [av_track("t1", [av_box(f) for f in range(1, 31)])]),
                         av_person("2", [av_track("t2", [av_box(f) for f in range(1, 15)])])],
                   looking=[av_seg(10, 20, "1"), av_seg(1, 1, "2"), av_seg(1, 30, None)])
    return write_json(tmp_path / "av.json", av_file([clip]))


LAM_SCORES = {(1, "t1"): 0.2, (14, "t1"): 0.9, (27, "t1"): 0.95, (1, "t2"): 0.7, (14, "t2"): 0.1}


def _lam_lines(scores=LAM_SCORES, box="10,20,40,60") -> list[str]:
    return [f"c,{f},{box},{t},1,{s}" for (f, t), s in scores.items()]


def test_lam(lam_annotations: Path, tmp_path: Path) -> None:
    # rows (labels): 1/t1 (0) .2, 14/t1 (1) .9, 27/t1 (0) .95, 1/t2 (1) .7, 14/t2 (0) .1
    # AP_1: ranked labels 0,1,1,0,0 -> precision 0, 1/2, 2/3; recall 0, 1/2, 1 -> 1/2 * 2/3 + 1/2 * 2/3 = 2/3
    # AP_0: 1 - score: 14/t2 .9 (neg), 1/t1 .8 (neg), 1/t2 .3, 14/t1 .1, 27/t1 .05 (neg)
    #       TP 1,2,2,2,3; precision 1,1,2/3,1/2,3/5; recall 1/3,2/3,2/3,2/3,1 -> 1/3 + 1/3 + 1/3 * 3/5 = 13/15
    # mAP = (2/3 + 13/15) / 2 = 23/30; accuracy: 27/t1 (.95, label 0) is the only miss -> 4/5
    preds = write_lines(tmp_path / "pred.csv", list(reversed(_lam_lines())))
    result = evaluate("lam", lam_annotations, preds)
    assert result["metrics"]["map"] == pytest.approx(23 / 30, abs=1e-12)
    assert result["metrics"]["acc"] == pytest.approx(0.8, abs=1e-12)
    assert result["counts"] == {"num_rows": 5, "num_positive": 2}


def test_lam_box_must_match_the_derived_box(lam_annotations: Path, tmp_path: Path) -> None:
    lines = _lam_lines()
    lines[0] = "c,1,10.1,20,40,60,t1,1,0.2"
    with pytest.raises(UserInputError, match=r"1 rows have a box that differs.*c:1:t1"):
        evaluate("lam", lam_annotations, write_lines(tmp_path / "p.csv", lines))
    lines[0] = "c,1,10.0000000001,20,40,60,t1,1,0.2"  # within 1e-9
    assert evaluate("lam", lam_annotations, write_lines(tmp_path / "q.csv", lines))["counts"]["num_rows"] == 5


@pytest.mark.parametrize(("line", "message"), [
    ("c,1,10,20,40,60,t1,0,0.2", r"line 1, column 8 \(label\): expected 1"),
    ("c,1,10,20,40,60,t1,1,1.5", r"line 1, column 9 \(score\): score 1.5 is outside \[0, 1\]"),
    ("c,1,10,20,40,60,t1,1,-0.1", r"score -0.1 is outside"),
    ("c,1,10,20,40,60,t1,1,nan", "expected a finite number"),
    ("c,1,10,20,40,60,t1,1", r"line 1: expected 9 columns"),
    ("c,one,10,20,40,60,t1,1,0.2", r"column 2 \(frame\): expected an integer"),
])
def test_lam_malformed_rows(lam_annotations: Path, tmp_path: Path, line: str, message: str) -> None:
    preds = write_lines(tmp_path / "p.csv", [line, *_lam_lines()[1:]])
    with pytest.raises(UserInputError, match=message) as info:
        evaluate("lam", lam_annotations, preds)
    assert info.value.file == str(preds)


def test_lam_missing_duplicate_and_extra_rows(lam_annotations: Path, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="1 of 5 annotated rows have no prediction, first: 'c:27:t1'"):
        evaluate("lam", lam_annotations, write_lines(tmp_path / "m.csv", [x for x in _lam_lines() if ",27," not in x]))
    with pytest.raises(UserInputError, match=r"duplicate predictions, first: 'c:1:t1' \(line 1 and line 6\)"):
        evaluate("lam", lam_annotations, write_lines(tmp_path / "d.csv", [*_lam_lines(), _lam_lines()[0]]))
    extra = [*_lam_lines(), "c,2,10,20,40,60,t1,1,0.5", "other,1,0,0,1,1,t9,1,0.5"]
    with pytest.raises(UserInputError, match="2 predictions for rows that are not in the annotations"):
        evaluate("lam", lam_annotations, write_lines(tmp_path / "x.csv", extra))
    with pytest.warns(EvaluationWarning, match="2 predictions for rows"):
        result = evaluate("lam", lam_annotations, tmp_path / "x.csv", allow_extra=True)
    assert result["metrics"]["map"] == pytest.approx(23 / 30, abs=1e-12)


def test_lam_clip_without_looking_segments_is_scored(tmp_path: Path) -> None:
    # two clips: "c" with a positive, "e" without looking segments (the official pipeline crashes on "e")
    c = av_clip("c", [av_person("1", [av_track("t1", [av_box(1)])])], looking=[av_seg(1, 1, "1")])
    e = av_clip("e", [av_person("1", [av_track("t9", [av_box(5)])])])
    ann = write_json(tmp_path / "av.json", av_file([c, e]))
    preds = write_lines(tmp_path / "p.csv", ["c,1,10,20,40,60,t1,1,0.8", "e,5,10,20,40,60,t9,1,0.3"])
    result = evaluate("lam", ann, preds)
    assert result["metrics"] == {"map": 1.0, "acc": 1.0}
    assert result["counts"] == {"num_rows": 2, "num_positive": 1}


@pytest.fixture
def ttm_annotations(tmp_path: Path) -> Path:
    talking = [av_seg(10, 20, "1", "0"), av_seg(30, 40, "2", None), av_seg(100, 299, "1", None),
               av_seg(5, 5, "1", "0")]  # idx 0 (label 1), 1 (0), 2 (0, end' 250), 3 skipped (1 frame)
    return write_json(tmp_path / "av.json", av_file([av_clip("c", [av_person("1"), av_person("2")], talking=talking)]))


def test_ttm(ttm_annotations: Path, tmp_path: Path) -> None:
    # scores idx0 .8 (label 1), idx1 .9 (0), idx2 .5 (0)
    # AP_1: ranked labels 0,1,0 -> precision 0, 1/2; recall 0, 1 -> 1/2
    # AP_0: 1 - score .2, .1, .5 -> ranked idx2 (neg), idx0, idx1 (neg): precision 1, 1/2, 2/3; recall 1/2, 1/2, 1
    #       -> 1/2 + 1/2 * 2/3 = 5/6;  mAP = (1/2 + 5/6) / 2 = 2/3
    # accuracy: idx0 right; idx1 (.9, label 0) wrong; idx2 (.5 counts as positive, label 0) wrong -> 1/3
    preds = write_lines(tmp_path / "p.csv", ["c,2,100,250,1,0.5", "c,0,10,20,1,0.8", "c,1,30,40,1,0.9"])
    result = evaluate("ttm", ttm_annotations, preds)
    assert result["metrics"]["map"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["metrics"]["acc"] == pytest.approx(1 / 3, abs=1e-12)
    assert result["counts"] == {"num_segments": 3, "num_positive": 1}


def test_ttm_end_must_be_the_truncated_end(ttm_annotations: Path, tmp_path: Path) -> None:
    preds = write_lines(tmp_path / "p.csv", ["c,2,100,299,1,0.5", "c,0,10,20,1,0.8", "c,1,30,40,1,0.9"])
    with pytest.raises(UserInputError, match=r"given 100..299, derived 100..250"):
        evaluate("ttm", ttm_annotations, preds)
    preds = write_lines(tmp_path / "q.csv", ["c,0,10,20,1,0.8", "c,1,30,40,1,0.9", "c,3,5,5,1,0.2", "c,2,100,250,1,0.5"])
    with pytest.raises(UserInputError, match="1 predictions for segments that are not in the annotations, first: c:3"):
        evaluate("ttm", ttm_annotations, preds)


def test_ttm_joins_on_clip_and_idx_not_on_start_end(tmp_path: Path) -> None:
    # Two clips with the same segment 10..20: the official "start:end" key would keep only one of them.
    clips = [av_clip(u, [av_person("1")], talking=[av_seg(10, 20, "1", t)]) for u, t in (("a", "0"), ("b", None))]
    ann = write_json(tmp_path / "av.json", av_file(clips))
    result = evaluate("ttm", ann, write_lines(tmp_path / "p.csv", ["a,0,10,20,1,0.7", "b,0,10,20,1,0.4"]))
    assert result["counts"] == {"num_segments": 2, "num_positive": 1}
    assert result["metrics"] == {"map": 1.0, "acc": 1.0}


@pytest.fixture
def asd_annotations(tmp_path: Path) -> Path:
    # "1": frames 5, 6, 7 at (10,20,40,60), speaks 5..6; "2": frames 5, 6 at (100,100,150,150), silent
    p1 = av_person("1", [av_track("t1", [av_box(f) for f in (5, 6, 7)])], voice=[(5, 6)])
    p2 = av_person("2", [av_track("t2", [av_box(f, 100, 100, 50, 50) for f in (5, 6)])])
    return write_json(tmp_path / "av.json", av_file([av_clip("c", [p1, p2])]))


ASD_HEADER = "clip_uid,frame,person_id,x1,y1,x2,y2,score"
ASD_ROWS = ["c,5,1,10,20,40,60,0.9", "c,6,1,10,20,40,60,0.5", "c,7,1,10,20,40,60,0.3",
            "c,5,2,100,100,150,150,0.6", "c,6,2,100,100,150,150,0.1", "c,6,-1,12,20,42,60,0.55"]


def test_asd(asd_annotations: Path, tmp_path: Path) -> None:
    # mAP, 2 speaking boxes (frames 5 and 6 of "1"). Ranked:
    #   .9 f5 "1" TP; .6 f5 "2" FP; .55 f6 unlinked, IoU 29*41 / (2*31*41 - 29*41) = .879 -> TP;
    #   .5 f6 "1": its best box is already used -> FP; .3 f7 FP; .1 f6 "2" FP
    #   TP 1,1,2,...; precision 1, 1/2, 2/3; recall 1/2, 1/2, 1 -> AP = 1/2 + 1/2 * 2/3 = 5/6
    # accuracy over the 5 face frames: f5/"1" .9 right; f6/"1" .5 = not speaking, wrong; f7/"1" .3 right;
    #   f5/"2" .6 wrong; f6/"2" .1 right -> 3/5
    result = evaluate("asd", asd_annotations, write_lines(tmp_path / "p.csv", [ASD_HEADER, *ASD_ROWS]))
    assert result["metrics"]["map"] == pytest.approx(5 / 6, abs=1e-12)
    assert result["metrics"]["acc"] == pytest.approx(0.6, abs=1e-12)
    assert result["counts"] == {"num_gt_speaking_boxes": 2, "num_detections": 6, "num_face_frames": 5,
                                "num_speaking_face_frames": 2}


@pytest.mark.parametrize(("rows", "message"), [
    ([r for r in ASD_ROWS if not r.startswith("c,7,1")], "1 of 5 annotated face frames have no prediction, first: c:7:1"),
    ([*ASD_ROWS, "c,5,1,10,20,40,60,0.2"], r"1 duplicate predictions, first: c:5:1 \(line 2 and line 8\)"),
    ([*ASD_ROWS, "zz,5,1,10,20,40,60,0.2"], "1 detections of clips or persons that are not in the annotations"),
    ([*ASD_ROWS, "c,5,9,10,20,40,60,0.2"], "1 detections of clips or persons"),
    ([*ASD_ROWS[:-1], "c,6,-1,12,20,42,60,2"], r"line 7, column 8 \(score\): score 2 is outside"),
])
def test_asd_bad_predictions(asd_annotations: Path, tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        evaluate("asd", asd_annotations, write_lines(tmp_path / "p.csv", [ASD_HEADER, *rows]))


def test_asd_header_and_allow_extra(asd_annotations: Path, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="line 1: expected the header"):
        evaluate("asd", asd_annotations, write_lines(tmp_path / "p.csv", ASD_ROWS))
    with pytest.raises(UserInputError, match="empty file"):
        evaluate("asd", asd_annotations, write_lines(tmp_path / "e.csv", []))
    preds = write_lines(tmp_path / "x.csv", [ASD_HEADER, *ASD_ROWS, "zz,5,1,10,20,40,60,0.99"])
    with pytest.warns(EvaluationWarning, match="1 detections"):
        result = evaluate("asd", asd_annotations, preds, allow_extra=True)
    assert result["metrics"]["map"] == pytest.approx(5 / 6, abs=1e-12)


def test_asd_single_clip_file_works(tmp_path: Path) -> None:
    # the official format scripts crash on a split with one clip (np.loadtxt gives a scalar)
    p1 = av_person("1", [av_track("t1", [av_box(5), av_box(6)])], voice=[(5, 5)])
    ann = write_json(tmp_path / "av.json", av_file([av_clip("only", [p1])]))
    preds = write_lines(tmp_path / "p.csv", [ASD_HEADER, "only,5,1,10,20,40,60,0.7", "only,6,1,10,20,40,60,0.2"])
    result = evaluate("asd", ann, preds)
    assert result["metrics"] == {"map": 1.0, "acc": 1.0}


def test_ttm_clip_without_talking_segments(tmp_path: Path) -> None:
    clips = [av_clip("a", [av_person("1")], talking=[av_seg(10, 20, "1", "0"), av_seg(30, 40, "1", None)]),
             av_clip("b", [av_person("1")])]
    ann = write_json(tmp_path / "av.json", av_file(clips))
    result = evaluate("ttm", ann, write_lines(tmp_path / "p.csv", ["a,0,10,20,1,0.7", "a,1,30,40,1,0.4"]))
    assert result["counts"] == {"num_segments": 2, "num_positive": 1}
    assert result["metrics"] == {"map": 1.0, "acc": 1.0}
