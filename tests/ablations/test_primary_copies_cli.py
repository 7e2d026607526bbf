"""Paper Table 4 (a) through the command line: extra copies of the primary's TS model (other seeds) are
passed as ``--ts ttm_copyN=RUN``, extracted, trained on, evaluated, and run online."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.backbones import build_ts_model
from egot2.cli import main
from egot2.config.schema import TrainConfig
from egot2.features.cache import CacheSplit
from egot2.training.stage1 import save_ts_run

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [str(ROOT / "configs" / "paper" / "egot2s_ttm.yaml"), str(ROOT / "configs" / "ablations" / "ttm_primary_copies.yaml")]
SMALL = ["model.translator.dim=16", "model.translator.heads=2", "model.translator.ffn=32", "train.epochs=1",
         "train.batch_size=4"]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two more TTM TS runs with other weights (their ts.json says ``ttm``)."""
    root = tmp_path_factory.mktemp("ttm-seeds")
    runs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        runs.append(root / f"ttm-seed{seed}")
        save_ts_run(runs[-1], build_ts_model("ttm", "tiny"), "ttm", "tiny", TrainConfig(), {})
    return runs


def _config_args() -> list[str]:
    return [a for c in CONFIGS for a in ("--config", c)]


def test_copies_are_extracted_trained_and_evaluated(tiny_world: Path, ts_runs: dict[str, Path], seeds: list[Path],
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, own = tmp_path / "cache", tmp_path / "own"
    ts = [str(ts_runs["ttm"]), f"ttm_copy1={seeds[0]}", f"ttm_copy2={seeds[1]}"]
    assert main(["extract", "--primary", "ttm", "--data", str(tiny_world), *_config_args(), "--ts", *ts,
                 "--out", str(cache), "--splits", "train", "val", "--quiet"]) == 0
    meta = json.loads((cache / "meta.json").read_text())
    assert set(meta["ts"]) == {"ttm", "ttm_copy1", "ttm_copy2"}
    assert meta["ts"]["ttm_copy1"]["sha256"] != meta["ts"]["ttm"]["sha256"]
    # copy 1 reads each clip as the primary's own model does: its streams are those of seed 1 as the primary
    assert main(["extract", "--primary", "ttm", "--data", str(tiny_world), "--ts", str(seeds[0]), "--aux",
                 "--out", str(own), "--splits", "val", "--quiet"]) == 0
    copies, alone = CacheSplit(cache, "val"), CacheSplit(own, "val")
    for clip in alone.ids():
        a, b = copies.get(clip).streams, alone.get(clip).streams
        assert torch.equal(a["ttm_copy1.frames"], b["ttm.frames"]), clip
        assert not torch.equal(a["ttm_copy1.frames"], a["ttm.frames"])
    run = tmp_path / "run"
    assert main(["train", "--method", "egot2-s", "--primary", "ttm", *_config_args(), "--cache", str(cache),
                 "--out", str(run), *SMALL]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "ttm" and 0.0 <= out["metrics"]["map"] <= 1.0


def test_copies_online_are_recorded_with_their_names(tiny_world: Path, ts_runs: dict[str, Path], seeds: list[Path],
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "online"
    ts = [str(ts_runs["ttm"]), f"ttm_copy1={seeds[0]}", f"ttm_copy2={seeds[1]}"]
    assert main(["train", "--method", "egot2-s", "--primary", "ttm", *_config_args(), "--online", "--data",
                 str(tiny_world), "--ts", *ts, "--out", str(run), *SMALL]) == 0
    capsys.readouterr()
    recorded = json.loads((run / "run.json").read_text())["online"]["ts"]
    assert recorded[1] == f"ttm_copy1={seeds[0].resolve()}" and recorded[2] == f"ttm_copy2={seeds[1].resolve()}"
    assert main(["eval", str(run), "--json"]) == 0  # the TS models run again, copies included
    assert 0.0 <= json.loads(capsys.readouterr().out)["metrics"]["map"] <= 1.0


def test_copy_of_another_task_and_unnamed_duplicates_are_refused(tiny_world: Path, ts_runs: dict[str, Path],
                                                                seeds: list[Path], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    base = ["extract", "--primary", "ttm", "--data", str(tiny_world), *_config_args(), "--out", str(tmp_path / "c"),
            "--quiet", "--ts", str(ts_runs["ttm"])]
    assert main([*base, f"ttm_copy1={ts_runs['lam']}", f"ttm_copy2={seeds[1]}"]) == 2
    err = capsys.readouterr().err
    assert "expected a 'ttm' TS model, the file holds 'lam'" in err and str(ts_runs["lam"]) in err
    assert main([*base, str(seeds[0]), str(seeds[1])]) == 2
    assert "two --ts models for task 'ttm'" in capsys.readouterr().err
    assert main([*base, f"ttm_copy1={seeds[0]}"]) == 2  # the config asks for two copies
    assert "ttm_copy2" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
