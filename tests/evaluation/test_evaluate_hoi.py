"""``evaluate`` for PNR, OSCC, AR and LTA: hand-worked values and every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.errors import UserInputError
from egot2.evaluation import EvaluationWarning, evaluate
from evaluation.builders import lta_action, lta_file, oscc_clip, oscc_file, write_json


@pytest.fixture
def oscc_annotations(tmp_path: Path) -> Path:
    return write_json(tmp_path / "oscc.json", oscc_file([
        oscc_clip("u1", True, 120),                                                 # S=0, E=240, 0..8 s
        oscc_clip("u2", True, 1120, start=1000, end=1240, start_sec=100.0, end_sec=108.0),
        oscc_clip("u3", False),
        oscc_clip("u4", False),
    ]))


def _pnr(*pairs) -> list[dict]:
    return [{"unique_id": u, "pnr_frame": f} for u, f in pairs]


def test_pnr(oscc_annotations: Path, tmp_path: Path) -> None:
    # u1: |105 - 120| / (241 / 8) = 120/241 s; u2: |120 - (1120 - 1000)| = 0; negatives ignored (u4: null)
    # mean over the 2 positives = 60/241
    preds = write_json(tmp_path / "p.json", _pnr(("u3", 37.5), ("u1", 105.0), ("u4", None), ("u2", 120)))
    result = evaluate("pnr", oscc_annotations, preds)
    assert result["task"] == "pnr"
    assert result["metrics"]["keyframe_err_s"] == pytest.approx(60 / 241, abs=1e-12)
    assert result["counts"] == {"num_clips": 4, "num_scored_clips": 2}


def test_pnr_missing_prediction_says_how_many_and_which(oscc_annotations: Path, tmp_path: Path) -> None:
    preds = write_json(tmp_path / "p.json", _pnr(("u1", 1.0), ("u3", 1.0)))
    with pytest.raises(UserInputError, match=r"2 of 4 annotated clips have no prediction, first: 'u2', 'u4'"):
        evaluate("pnr", oscc_annotations, preds)


def test_pnr_positive_needs_a_number(oscc_annotations: Path, tmp_path: Path) -> None:
    preds = write_json(tmp_path / "p.json", _pnr(("u1", None), ("u2", 1), ("u3", 1), ("u4", 1)))
    with pytest.raises(UserInputError, match="state change") as info:
        evaluate("pnr", oscc_annotations, preds)
    assert info.value.field == "pnr_frame"
    preds = write_json(tmp_path / "q.json", _pnr(("u1", "7"), ("u2", 1), ("u3", 1), ("u4", 1)))
    with pytest.raises(UserInputError, match="expected a number"):
        evaluate("pnr", oscc_annotations, preds)


def _oscc(*pairs) -> list[dict]:
    return [{"unique_id": u, "state_change": s} for u, s in pairs]


def test_oscc(oscc_annotations: Path, tmp_path: Path) -> None:
    # truth T T F F, predicted T F F T -> u1 and u3 right -> 2/4
    preds = write_json(tmp_path / "p.json", _oscc(("u4", True), ("u2", False), ("u1", True), ("u3", False)))
    result = evaluate("oscc", oscc_annotations, preds)
    assert result["metrics"] == {"acc": 0.5}
    assert result["counts"] == {"num_clips": 4, "num_positive": 2}


def test_oscc_duplicates_and_bad_values(oscc_annotations: Path, tmp_path: Path) -> None:
    dup = write_json(tmp_path / "d.json", _oscc(("u1", True), ("u2", True), ("u1", False), ("u3", True), ("u4", True)))
    with pytest.raises(UserInputError, match=r"1 duplicate predictions, first: 'u1' \(entry 0 and entry 2\)"):
        evaluate("oscc", oscc_annotations, dup)
    bad = write_json(tmp_path / "b.json", _oscc(("u1", 1), ("u2", True), ("u3", True), ("u4", True)))
    with pytest.raises(UserInputError, match="expected true or false"):
        evaluate("oscc", oscc_annotations, bad)
    with pytest.raises(UserInputError, match="expected a JSON list"):
        evaluate("oscc", oscc_annotations, write_json(tmp_path / "o.json", {"u1": True}))


def test_unknown_ids_error_or_warning(oscc_annotations: Path, tmp_path: Path) -> None:
    preds = write_json(tmp_path / "p.json", _oscc(("u1", True), ("u2", True), ("u3", False), ("u4", False),
                                                  ("zz", True), ("yy", False)))
    with pytest.raises(UserInputError, match=r"2 predictions for clips that are not in the annotations.*--allow-extra"):
        evaluate("oscc", oscc_annotations, preds)
    with pytest.warns(EvaluationWarning, match="2 predictions for clips that are not in the annotations"):
        result = evaluate("oscc", oscc_annotations, preds, allow_extra=True)
    assert result["metrics"] == {"acc": 1.0}


def test_malformed_predictions_json_names_the_line(oscc_annotations: Path, tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('[\n {"unique_id": "u1", "state_change": true},\n {"unique_id": "u2" "state_change": true}\n]\n')
    with pytest.raises(UserInputError, match="line 3") as info:
        evaluate("oscc", oscc_annotations, bad)
    assert info.value.file == str(bad)


@pytest.fixture
def lta_annotations(tmp_path: Path) -> Path:
    # clip "c": 23 actions, verb = idx % 5, noun = idx % 7 -> windows c_1 (future 2..21) and c_2 (future 3..22)
    # clip "d": 2 actions (no window)
    actions = [lta_action("c", i, i % 5, i % 7) for i in range(23)] + [lta_action("d", 0, 1, 2), lta_action("d", 5, 3, 4)]
    return write_json(tmp_path / "lta.json", lta_file(actions))


def test_ar(lta_annotations: Path, tmp_path: Path) -> None:
    preds = {f"c_{i}": {"verb": i % 5, "noun": i % 7} for i in range(23)}
    preds["d_0"] = {"verb": 1, "noun": 0}  # verb right, noun wrong (truth 2)
    preds["d_5"] = {"verb": 0, "noun": 4}  # verb wrong (truth 3), noun right
    result = evaluate("ar", lta_annotations, write_json(tmp_path / "p.json", preds))
    # 25 items: verbs 24 right, nouns 24 right
    assert result["metrics"] == {"verb_top1": 24 / 25, "noun_top1": 24 / 25}
    assert result["counts"] == {"num_items": 25}


def test_ar_duplicate_keys_and_range(lta_annotations: Path, tmp_path: Path) -> None:
    dup = tmp_path / "d.json"
    dup.write_text('{"c_0": {"verb": 0, "noun": 0}, "c_0": {"verb": 1, "noun": 1}}')
    with pytest.raises(UserInputError, match="'c_0' appears more than once"):
        evaluate("ar", lta_annotations, dup)
    preds = {f"c_{i}": {"verb": 0, "noun": 0} for i in range(23)} | {"d_0": {"verb": 115, "noun": 0},
                                                                    "d_5": {"verb": 0, "noun": 0}}
    with pytest.raises(UserInputError, match="outside 0..114") as info:
        evaluate("ar", lta_annotations, write_json(tmp_path / "p.json", preds))
    assert info.value.field == "verb"


def _truth(lo: int, hi: int, mod: int) -> list[int]:
    return [i % mod for i in range(lo, hi)]


def _lta_predictions() -> dict:
    verbs1, nouns1 = _truth(2, 22, 5), _truth(2, 22, 7)
    verbs2, nouns2 = _truth(3, 23, 5), _truth(3, 23, 7)
    swapped = [verbs2[1], verbs2[0], *verbs2[2:]]    # adjacent swap of 3, 4 -> Levenshtein 2
    last_changed = nouns2[:-1] + [6]                  # truth ends in 22 % 7 = 1 -> 1 substitution
    zeros = [0] * 20
    return {
        # c_1: the best verb candidate is #0, the best noun candidate is #4 (independent minima)
        "c_1": {"verb": [verbs1, zeros, zeros, zeros, zeros], "noun": [zeros, zeros, zeros, zeros, nouns1]},
        "c_2": {"verb": [swapped] * 5, "noun": [last_changed] * 5},
    }


def test_lta(lta_annotations: Path, tmp_path: Path) -> None:
    result = evaluate("lta", lta_annotations, write_json(tmp_path / "p.json", _lta_predictions()))
    m = result["metrics"]
    # ED@20: verbs (0 + 2/20) / 2 = .05; nouns (0 + 1/20) / 2 = .025
    assert m["ed20_verb"] == pytest.approx(0.05, abs=1e-12)
    assert m["ed20_noun"] == pytest.approx(0.025, abs=1e-12)
    # AUED verbs: c_2 prefix distances 1/1, 2/2, 2/3, ..., 2/20; c_1 all 0 -> mean ED_1 = .5, ED_z = 1/z (z >= 2)
    # trapezoid = (ED_1 + ED_20)/2 + ED_2 + ... + ED_19 = (.5 + .05)/2 + .5 + sum_{z=3..19} 1/z, over 19
    expected_verb = ((0.5 + 0.05) / 2 + 0.5 + sum(1 / z for z in range(3, 20))) / 19
    assert m["aued_verb"] == pytest.approx(expected_verb, abs=1e-12)
    # AUED nouns: only ED_20 = .025 is non-zero -> trapezoid .025 / 2, over 19
    assert m["aued_noun"] == pytest.approx(0.0125 / 19, abs=1e-12)
    assert result["counts"] == {"num_clips": 2, "num_windows": 2}


def test_lta_wrong_k_and_z(lta_annotations: Path, tmp_path: Path) -> None:
    preds = _lta_predictions()
    preds["c_1"]["verb"] = preds["c_1"]["verb"][:4]
    with pytest.raises(UserInputError, match="K = 5 candidate sequences, got 4") as info:
        evaluate("lta", lta_annotations, write_json(tmp_path / "k.json", preds))
    assert info.value.field == "verb" and "c_1" in str(info.value)
    preds = _lta_predictions()
    preds["c_2"]["noun"][3] = preds["c_2"]["noun"][3][:19]
    with pytest.raises(UserInputError, match="Z = 20 class ids, got 19 steps") as info:
        evaluate("lta", lta_annotations, write_json(tmp_path / "z.json", preds))
    assert info.value.field == "noun[3]"


def test_lta_missing_and_extra_windows(lta_annotations: Path, tmp_path: Path) -> None:
    preds = _lta_predictions()
    del preds["c_2"]
    with pytest.raises(UserInputError, match="1 of 2 annotated windows have no prediction, first: 'c_2'"):
        evaluate("lta", lta_annotations, write_json(tmp_path / "m.json", preds))
    preds = _lta_predictions() | {"c_3": _lta_predictions()["c_2"]}  # c_3 would need a 24th action
    with pytest.raises(UserInputError, match="1 predictions for windows that are not in the annotations"):
        evaluate("lta", lta_annotations, write_json(tmp_path / "x.json", preds))


def test_taxonomy_option(lta_annotations: Path, tmp_path: Path) -> None:
    tax = write_json(tmp_path / "tax.json", {"verbs": [f"v{i}" for i in range(5)], "nouns": [f"n{i}" for i in range(7)]})
    preds = {f"c_{i}": {"verb": i % 5, "noun": i % 7} for i in range(23)}
    preds |= {"d_0": {"verb": 1, "noun": 2}, "d_5": {"verb": 3, "noun": 4}}
    result = evaluate("ar", lta_annotations, write_json(tmp_path / "p.json", preds), taxonomy_path=tax)
    assert result["metrics"] == {"verb_top1": 1.0, "noun_top1": 1.0}
    with pytest.raises(UserInputError, match="taxonomy applies to ar and lta only"):
        evaluate("oscc", lta_annotations, tmp_path / "p.json", taxonomy_path=tax)


def test_unknown_task() -> None:
    with pytest.raises(UserInputError, match="unknown task 'xyz'"):
        evaluate("xyz", "a", "b")


def test_undefined_metric_is_null_with_a_warning(tmp_path: Path) -> None:
    ann = write_json(tmp_path / "a.json", oscc_file([oscc_clip("u1", False)]))
    preds = write_json(tmp_path / "p.json", _pnr(("u1", 3.0)))
    with pytest.warns(EvaluationWarning, match="keyframe_err_s is undefined"):
        result = evaluate("pnr", ann, preds)
    assert result["metrics"] == {"keyframe_err_s": None}
    assert json.loads(json.dumps(result)) == result
