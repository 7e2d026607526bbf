"""``egot2 evaluate`` in-process: exit codes, the table, ``--json`` and messages on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.cli import main
from evaluation.builders import oscc_clip, oscc_file, write_json


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    ann = write_json(tmp_path / "ann.json", oscc_file([oscc_clip("u1", True, 120), oscc_clip("u2", False)]))
    preds = write_json(tmp_path / "preds.json", [{"unique_id": "u1", "pnr_frame": 105.0},
                                                 {"unique_id": "u2", "pnr_frame": 0.0}])
    return ann, preds


def test_json_output(files, capsys) -> None:
    ann, preds = files
    assert main(["evaluate", "pnr", "--annotations", str(ann), "--predictions", str(preds), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # one positive clip: |105 - 120| / (241 / 8) = 120/241 s
    assert out["task"] == "pnr"
    assert out["metrics"]["keyframe_err_s"] == pytest.approx(120 / 241, abs=1e-12)
    assert out["counts"] == {"num_clips": 2, "num_scored_clips": 1}
    assert set(out) == {"task", "metrics", "counts"}


def test_table_output(files, capsys) -> None:
    ann, preds = files
    assert main(["evaluate", "pnr", "--annotations", str(ann), "--predictions", str(preds)]) == 0
    out = capsys.readouterr().out
    assert "keyframe_err_s" in out and f"{120 / 241:.6f}" in out and "num_scored_clips" in out


def test_bad_input_exits_2_with_a_message(files, tmp_path: Path, capsys) -> None:
    ann, _ = files
    preds = write_json(tmp_path / "p.json", [{"unique_id": "u1", "pnr_frame": 105.0}])
    assert main(["evaluate", "pnr", "--annotations", str(ann), "--predictions", str(preds)]) == 2
    err = capsys.readouterr().err
    assert "egot2 evaluate: error:" in err and "1 of 2 annotated clips have no prediction" in err and "'u2'" in err
    assert "Traceback" not in err


def test_missing_file_exits_2(files, tmp_path: Path, capsys) -> None:
    ann, _ = files
    assert main(["evaluate", "oscc", "--annotations", str(ann), "--predictions", str(tmp_path / "nope.json")]) == 2
    assert "not found" in capsys.readouterr().err


def test_allow_extra_warns_on_stderr(files, tmp_path: Path, capsys) -> None:
    ann, _ = files
    preds = write_json(tmp_path / "p.json", [{"unique_id": u, "state_change": True} for u in ("u1", "u2", "x")])
    assert main(["evaluate", "oscc", "--annotations", str(ann), "--predictions", str(preds), "--json"]) == 2
    capsys.readouterr()
    assert main(["evaluate", "oscc", "--annotations", str(ann), "--predictions", str(preds), "--json",
                 "--allow-extra"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["metrics"] == {"acc": 0.5}
    assert "warning: " in captured.err and "1 predictions for clips" in captured.err


def test_unknown_task_is_a_usage_error(files, capsys) -> None:
    ann, preds = files
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "nope", "--annotations", str(ann), "--predictions", str(preds)])
    assert info.value.code == 2
