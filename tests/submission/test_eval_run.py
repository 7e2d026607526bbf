"""``egot2 eval`` on tiny extracted caches: the prediction file is written, scored by the file-level
evaluator, and its numbers equal the cached validation score where the definitions coincide."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from egot2.cli import main
from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.features.cache import CacheItem, CacheWriter, check_meta, read_meta, write_meta
from egot2.features.extract import extract
from egot2.methods import build_model
from egot2.training.runs import save_run
from egot2.training.stage2 import evaluate_run, resolve_dims, score_split

SMALL = ["model.aux=[]", "model.translator.dim=16", "model.translator.heads=2", "model.translator.layers=1",
         "model.translator.ffn=16", "model.translator.positions=task-sinusoidal"]


def _run(cache: Path, out: Path, task: str) -> Path:
    """A randomly initialised EgoT2-s run over ``cache`` (no training: the file must match any model)."""
    cfg = resolve_dims(load_config([], [f"model.primary={task}", *SMALL]), cache)
    torch.manual_seed(5)
    save_run(out, build_model(cfg.model), cfg, {"cache": str(cache)})
    return out


@pytest.fixture(scope="module")
def make_run(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
             ) -> Callable[[str], Path]:
    """Extract (primary stream only) and build a random run for a task, once per module."""
    made: dict[str, Path] = {}

    def get(task: str) -> Path:
        if task not in made:
            root = tmp_path_factory.mktemp(task)
            splits = ["val", "test"] if task == "oscc" else ["val"]
            extract(task, tiny_world, [ts_runs[task]], root / "cache", aux=[], splits=splits, progress=False)
            made[task] = _run(root / "cache", root / "run", task)
        return made[task]

    return get


@pytest.mark.parametrize(("task", "same"), [("oscc", ["acc"]), ("pnr", ["keyframe_err_s"]), ("ttm", ["map", "acc"]),
                                            ("asd", ["acc"]), ("lta", ["ed20_verb", "ed20_noun"])])
def test_official_file_scores_equal_cached_scores(task: str, same: list[str], make_run: Callable[[str], Path]) -> None:
    run = make_run(task)
    result = evaluate_run(run, "val")
    assert result["scored_by"] == "evaluate"
    assert Path(result["predictions"]) == run / f"predictions_val.{'csv' if task in ('ttm', 'asd') else 'json'}"
    cfg_cache = json.loads((run / "run.json").read_text())["cache"]
    from egot2.training.runs import load_run

    cfg, _, weights = load_run(run)
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    cached = score_split(model, cfg, Path(cfg_cache), "val")
    assert {k: result["metrics"][k] for k in same} == pytest.approx({k: cached[k] for k in same}, abs=1e-12)


def test_test_split_only_writes_the_file(make_run: Callable[[str], Path], tmp_path: Path, capsys) -> None:
    run = make_run("oscc")
    out = tmp_path / "sub" / "oscc_test.json"
    assert main(["eval", str(run), "--split", "test", "--predictions", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"task": "oscc", "split": "test", "metrics": {}, "predictions": str(out), "scored_by": None}
    entries = json.loads(out.read_text())
    assert len(entries) > 0 and all(set(e) == {"unique_id", "state_change"} for e in entries)


def test_recorded_data_folder_does_not_make_a_cache_stale(make_run: Callable[[str], Path]) -> None:
    cache = Path(json.loads((make_run("oscc") / "run.json").read_text())["cache"])
    meta = read_meta(cache)
    assert Path(meta["data"]).is_absolute()
    check_meta(cache, {**meta, "data": "/moved/elsewhere"})  # no error
    with pytest.raises(UserInputError, match="dtype"):
        check_meta(cache, {**meta, "dtype": "float16"})


def test_hand_made_cache_falls_back_to_cached_scores(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_meta(cache, {"primary": "ttm", "streams": {"ttm.frames": 4, "ttm.audio": 2}, "dtype": "float32"})
    writer = CacheWriter(cache, "val")
    for i in range(4):  # no data folder, and infos without the TTM segment fields
        streams = {"ttm.frames": torch.randn(3, 4), "ttm.audio": torch.randn(1, 2)}
        writer.add(CacheItem(f"c:{i}", streams, {"label": torch.tensor(i % 2)}, {"idx": i}))
    writer.flush()
    run = _run(cache, tmp_path / "run", "ttm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate_run(run, "val")
    assert result["scored_by"] == "cache" and result["predictions"] is None and set(result["metrics"]) == {"map", "acc"}
    assert any("eval_start" in str(w.message) for w in caught)
    with pytest.raises(UserInputError, match="eval_start"):
        evaluate_run(run, "val", predictions=tmp_path / "p.csv")
