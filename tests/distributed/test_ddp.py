"""DDP on CPU (gloo): two processes started by ``torchrun`` see every clip once per epoch, score every
validation clip once with the same metrics on every rank, and end where one process with the same global
batch ends; extraction over two ranks writes the same cache as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from distributed.caches import EGOT2G, generalist_caches, oscc_cache, write_config
from egot2.data.datasets import build_dataset
from egot2.features.cache import CacheSplit
from egot2.features.extract import extract
from egot2.training.distributed import ShardedSampler, gather_samples, gather_validation

SCRIPT = Path(__file__).with_name("ddp_train.py")


def _launch(args: list[str], procs: int, timeout: int = 300) -> None:
    """Run ``args`` in ``procs`` processes (torchrun when more than one)."""
    if procs == 1:
        cmd = [sys.executable, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def _train(kind: str, first: Path | str, second: Path, out: Path, procs: int, *overrides: str) -> list[dict[str, Any]]:
    devices = ["--devices", str(procs)] if procs > 1 else []
    _launch([str(SCRIPT), kind, str(first), str(second), str(out), *devices, *overrides], procs)
    records = [json.loads((out / f"record-rank{r}.json").read_text()) for r in range(procs)]
    assert not any(r["group_left"] for r in records), "the training function left its process group behind"
    return records


def _global_steps(records: list[dict[str, Any]]) -> dict[str, list[list[str]]]:
    """Per epoch, the clips of each step over all ranks (sorted)."""
    epochs = records[0]["seen"]
    assert all(r["seen"].keys() == epochs.keys() for r in records)
    out = {}
    for e in epochs:
        steps = [r["seen"][e] for r in records]
        assert len({len(s) for s in steps}) == 1, "ranks ran different numbers of steps"
        out[e] = [sorted(i for s in steps for i in s[k]) for k in range(len(steps[0]))]
    return out


def _same_scores(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert [(s["task"], s["clips"]) for s in a] == [(s["task"], s["clips"]) for s in b]
    for x, y in zip(a, b, strict=True):
        assert x["scores"] == pytest.approx(y["scores"], abs=1e-6)


def _same_predictions(a: Path, b: Path, cache: Path) -> None:
    """Both runs' models give the same validation logits (EgoT2-s) or losses (EgoT2-g). Weights are not
    compared: Adam turns the float noise of gradients that are zero in exact arithmetic (attention key
    biases) into steps of the learning rate's size, on parameters that do not change any output."""
    from egot2.methods import build_model, generalist_layouts, model_layout
    from egot2.training.runs import load_run
    from egot2.training.stage2 import _loader, predict_split

    results = []
    for run in (a, b):
        cfg, _, weights = load_run(run)
        model = build_model(cfg.model)
        model.load_state_dict(weights)
        if cfg.model.method == "egot2-g":
            model.eval()
            with torch.no_grad():
                results.append(torch.stack([
                    model.task_loss(task, x["streams"], x["masks"] or None, x["labels"])
                    for task, layout in generalist_layouts(cfg.model).items()
                    for x in _loader(CacheSplit(cache / task, "val"), [s.key for s in layout], 64, False, 0)]))
        else:
            outs = predict_split(model, cfg, cache, "val")[0]
            results.append(torch.cat([o["logits"] for o in outs]))
            assert [s.key for s in model_layout(cfg.model)] == ["oscc.tokens", "pnr.tokens"]
    torch.testing.assert_close(results[0], results[1], rtol=1e-4, atol=1e-5)


# --- the sampler and the gathering, in one process ------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 5, 23, 48])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_sharded_sampler_splits_the_global_batches(size: int, world: int) -> None:
    sampler = ShardedSampler(size, shuffle=True, seed=7)
    sampler.set_epoch(3)
    parts = [sampler.local_indices(r, world) for r in range(world)]
    assert len({len(p) for p in parts}) <= 1  # equal steps on every rank
    flat = [i for p in parts for i in p]
    assert sorted(set(flat)) == list(range(size))  # every clip ...
    assert len(flat) - size == ((-size) % world if size else 0)  # ... and only the padding repeats
    padded, alone = sampler.global_order(world), sampler.global_order(1)
    assert padded[:size] == alone  # the padding comes last: one process's order, extended
    for b in (1, 2, 4):  # the ranks' batches k together = one process's batch k of size world * b
        for k in range(len(parts[0]) // b):
            together = sorted(i for p in parts for i in p[k * b:(k + 1) * b])
            assert together == sorted(padded[k * b * world:(k + 1) * b * world])


def test_sampler_epochs_differ_and_skip_resumes() -> None:
    sampler = ShardedSampler(10, shuffle=True, seed=0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    sampler.skip(4)
    assert list(sampler) == first[4:] and list(sampler) == first  # the skip applies once


def test_single_process_gathering_keeps_each_index_once() -> None:
    assert gather_samples(["c", "a", "b", "a2"], [2, 0, 1, 0]) == ["a", "b", "c"]
    batch = ({"logits": torch.randn(3, 2)}, {"label": torch.tensor([0, 1, 1])}, [{}, {}, {}])
    assert gather_validation([batch], loader=None) == [batch]  # no process group: unchanged


def test_a_group_made_inside_is_destroyed_one_made_outside_kept(tmp_path: Path) -> None:
    import torch.distributed as dist

    from egot2.training.distributed import releases_process_group

    def make_group(name: str) -> None:
        dist.init_process_group("gloo", init_method=f"file://{tmp_path / name}", rank=0, world_size=1)

    @releases_process_group
    def inside(fail: bool) -> bool:
        if not dist.is_initialized():
            make_group(f"inside-{fail}")
        if fail:
            raise ValueError("boom")
        return dist.is_initialized()

    assert inside(False) and not dist.is_initialized()
    with pytest.raises(ValueError):
        inside(True)
    assert not dist.is_initialized()  # destroyed on the way out of an error too
    make_group("outside")
    try:
        assert inside(False) and dist.is_initialized()  # the caller's group is left alone
    finally:
        dist.destroy_process_group()


# --- two processes ---------------------------------------------------------------------------------------


def test_egot2s_two_processes_equal_one(tmp_path: Path) -> None:
    cache = oscc_cache(tmp_path / "cache", n_train=48, n_val=23)
    cfg = write_config(tmp_path / "cfg.yaml")
    one = _train("stage2", cfg, cache, tmp_path / "one", 1, "train.batch_size=16", "model.translator.dropout=0.0")
    two = _train("stage2", cfg, cache, tmp_path / "two", 2, "train.batch_size=8", "model.translator.dropout=0.0")
    train_ids = CacheSplit(cache, "train").ids()
    steps_two, steps_one = _global_steps(two), _global_steps(one)
    assert steps_two == steps_one  # step k of the two ranks together = step k of one process
    for steps in steps_two.values():
        assert sorted(i for s in steps for i in s) == sorted(train_ids)  # every clip exactly once per epoch
    for rank in two:  # every validation (sanity check, 3 epochs) scored all 23 clips on each rank, alike
        assert all(s["clips"] == 23 for s in rank["scored"]) and len(rank["scored"]) == 4
        _same_scores(rank["scored"], one[0]["scored"])
    assert two[0]["val"] == pytest.approx(one[0]["val"], abs=1e-6)
    _same_predictions(tmp_path / "one", tmp_path / "two", cache)


def test_egot2g_two_processes_equal_one(tmp_path: Path) -> None:
    caches = generalist_caches(tmp_path / "caches")
    cfg = write_config(tmp_path / "g.yaml", EGOT2G)
    one = _train("stage2", cfg, caches, tmp_path / "one", 1, "train.batch_size=16")
    two = _train("stage2", cfg, caches, tmp_path / "two", 2, "train.batch_size=8")
    assert _global_steps(two) == _global_steps(one)
    for rank in two:
        assert {(s["task"], s["clips"]) for s in rank["scored"]} == {("lam", 11), ("ttm", 9), ("asd", 10)}
        _same_scores(rank["scored"], one[0]["scored"])
    _same_predictions(tmp_path / "one", tmp_path / "two", caches)


def test_stage1_two_processes_cover_the_data(tiny_world: Path, tmp_path: Path) -> None:
    two = _train("ts", "oscc", tiny_world, tmp_path / "two", 2, "train.epochs=1", "train.batch_size=1")
    steps = _global_steps(two)["0"]
    assert sorted(i for s in steps for i in s) == sorted(it.key for it in build_dataset("oscc", tiny_world, "train").items)
    n_val = len(build_dataset("oscc", tiny_world, "val"))
    for rank in two:  # sanity check, epoch end, final validate: all val clips, the same scores on both ranks
        assert [s["clips"] for s in rank["scored"]] == [n_val] * 3
        assert rank["scored"] == two[0]["scored"]
    assert (tmp_path / "two" / "model.safetensors").exists()


def test_extraction_two_ranks_equal_one(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    ts = [str(ts_runs[t]) for t in ("oscc", "pnr")]
    extract("oscc", tiny_world, ts, tmp_path / "one", aux=["pnr"], shard_size=1, progress=False)
    _launch(["-m", "egot2", "extract", "--primary", "oscc", "--data", str(tiny_world), "--ts", *ts, "--aux", "pnr",
             "--out", str(tmp_path / "two"), "--quiet"], 2)
    for split in ("train", "val", "test"):
        one, two = CacheSplit(tmp_path / "one", split), CacheSplit(tmp_path / "two", split)
        names = sorted(p.name for p in (tmp_path / "two" / split).iterdir())
        assert names == ["complete-r0.json", "complete-r1.json", "shard-r0-00000.safetensors",
                         "shard-r1-00000.safetensors"]
        assert two.ids() == one.ids() and len(set(two.ids())) == len(two.ids())  # no clip twice, none missed
        for cid in one.ids():
            a, b = one.get(cid), two.get(cid)
            assert a.info == b.info and a.labels.keys() == b.labels.keys()
            for k in a.streams:
                assert torch.equal(a.streams[k], b.streams[k]), (cid, k)
