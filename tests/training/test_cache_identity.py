"""A run reads only caches with the streams it was trained on: the same TS models (sha256), windows,
profile and primary. Evaluating with, or resuming on, another cache is refused (exit 2) and nothing of
the run is changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.training.test_stage2 import _cfg, make_ttm_cache

from egot2.cli import main
from egot2.errors import UserInputError
from egot2.features.cache import read_meta, write_meta
from egot2.training.stage2 import evaluate_run, train_stage2


def _cache(root: Path, lam_sha: str = "1" * 64, windows: dict | None = None) -> Path:
    """The same clips (seed 0) under a meta.json naming TS models (LAM's hash ``lam_sha``)."""
    make_ttm_cache(root, 32, 16)
    meta = {k: v for k, v in read_meta(root).items() if k not in ("format", "egot2_version")}
    meta.update(ts={"ttm": {"sha256": "0" * 64, "size": "tiny"}, "lam": {"sha256": lam_sha, "size": "tiny"},
                    "asd": {"sha256": "2" * 64, "size": "tiny"}}, windows=windows or {}, profile="synth")
    write_meta(root, meta)
    return root


def test_eval_with_a_cache_of_other_ts_models_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, same = _cache(tmp_path / "a"), _cache(tmp_path / "b", lam_sha="9" * 64), _cache(tmp_path / "same")
    run = tmp_path / "run"
    info = train_stage2(_cfg(tmp_path, "train.epochs=1"), a, run, progress=False)
    assert info["cache_identity"]["ts"]["lam"]["sha256"] == "1" * 64
    assert evaluate_run(run, "val", cache=same)["metrics"] == pytest.approx(info["val"], abs=1e-9)
    with pytest.raises(UserInputError, match=r"TS model 'lam': this cache's sha256 999999999999\.\.\., the run's "
                                             r"111111111111\.\.\."):
        evaluate_run(run, "val", cache=b)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["eval", str(run), "--cache", str(b)]) == 2
    assert str(b / "meta.json") in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_other_windows_are_refused_too(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_stage2(_cfg(tmp_path, "train.epochs=1"), _cache(tmp_path / "a"), run, progress=False)
    with pytest.raises(UserInputError, match=r"windows: this cache has \{'ar': 3\}, the run's had \{\}"):
        evaluate_run(run, "val", cache=_cache(tmp_path / "w", windows={"ar": 3}))


def test_resume_on_another_cache_is_refused(tmp_path: Path) -> None:
    a, b = _cache(tmp_path / "a"), _cache(tmp_path / "b", lam_sha="9" * 64)
    run = tmp_path / "run"
    cfg = _cfg(tmp_path, "train.epochs=3")
    train_stage2(cfg, a, run, progress=False, max_steps=2)
    record = (run / "cache.json").read_bytes()
    assert json.loads(record)["ts"]["lam"]["sha256"] == "1" * 64
    with pytest.raises(UserInputError, match="the one the run being resumed was trained on"):
        train_stage2(cfg, b, run, resume=True, progress=False)
    assert (run / "cache.json").read_bytes() == record
    train_stage2(cfg, a, run, resume=True, progress=False)  # the same cache resumes


def test_online_run_evaluated_with_a_cache_of_other_weights(tiny_world: Path, ts_runs: dict[str, Path],
                                                            tmp_path: Path) -> None:
    import torch

    from egot2.backbones import build_ts_model
    from egot2.config import load_config
    from egot2.config.schema import TrainConfig
    from egot2.features.extract import extract
    from egot2.training.stage1 import save_ts_run

    ts = [ts_runs[t] for t in ("ttm", "lam", "asd")]
    cfg = load_config([], ["model.primary=ttm", "model.aux=[lam,asd]", "model.translator.positions=task-sinusoidal",
                           "model.translator.dim=16", "model.translator.heads=2", "train.epochs=1",
                           "train.batch_size=4"])
    run = tmp_path / "run"
    train_stage2(cfg, None, run, online=(tiny_world, ts), progress=False)
    extract("ttm", tiny_world, ts, tmp_path / "same", splits=["val"], progress=False)
    assert evaluate_run(run, "val", cache=tmp_path / "same")["metrics"]
    torch.manual_seed(77)
    save_ts_run(tmp_path / "lam2", build_ts_model("lam", "tiny"), "lam", "tiny", TrainConfig(), {})
    extract("ttm", tiny_world, [ts[0], tmp_path / "lam2", ts[2]], tmp_path / "other", splits=["val"], progress=False)
    with pytest.raises(UserInputError, match="ran its TS models online but the cache holds the streams of another "
                                             "'lam' model"):
        evaluate_run(run, "val", cache=tmp_path / "other")
