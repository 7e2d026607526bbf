"""``egot2 train --method ts`` trains the primary's own TS model on its clips, and ``egot2 eval`` of that run
writes the task's prediction file and scores it with the official evaluator: the numbers of the run's
own validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.cli import main


@pytest.mark.parametrize("task", ["oscc", "ttm", "asd"])
def test_train_ts_then_eval(task: str, tiny_world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--method", "ts", "--primary", task, "--data", str(tiny_world), "--out", str(run),
                 "--quiet", "train.epochs=1", "train.batch_size=4"]) == 0
    trained = json.loads((run / "ts.json").read_text())
    assert trained["task"] == task and trained["size"] == "tiny"
    capsys.readouterr()
    assert main(["eval", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == task and out["split"] == "val" and out["scored_by"] == "evaluate"
    assert Path(out["predictions"]).is_file() and Path(out["predictions"]).parent == run
    for name, value in trained["val"].items():  # the run's own validation (every clip of val)
        if name in out["metrics"]:
            assert out["metrics"][name] == pytest.approx(value, abs=1e-9), name
    assert main(["eval", str(run), "--split", "test", "--json"]) == 0  # unlabelled: written, not scored
    test = json.loads(capsys.readouterr().out)
    assert test["metrics"] == {} and Path(test["predictions"]).is_file()


def test_ts_method_needs_data_and_takes_no_cache(tiny_world: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--method", "ts", "--primary", "oscc", "--out", str(tmp_path / "r")]) == 2
    assert "give --primary and --data" in capsys.readouterr().err
    assert main(["train", "--method", "ts", "--primary", "oscc", "--data", str(tiny_world), "--cache",
                 str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "leave out --cache" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
