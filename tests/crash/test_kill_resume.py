"""SIGKILL in the middle of training or extraction, then resume: the result is the uninterrupted one.

Training: ``egot2 train`` (dropout on, so the random state matters) is killed after a given step;
``--resume`` continues from ``last.ckpt`` and ends with bitwise the same weights and the same metrics
as a run that was never interrupted. Extraction is killed while a shard is half-way to its final name;
running it again completes a cache with the same clips, in the same order, with the same tensors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from distributed.caches import EGOT2G, generalist_caches, oscc_cache, write_config
from egot2.features.cache import CacheSplit
from egot2.features.extract import extract

KILLER = Path(__file__).with_name("killer.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _egot2(*args: str, kill: tuple[str, int] | None = None) -> subprocess.CompletedProcess[str]:
    prefix = [str(KILLER), kill[0], str(kill[1])] if kill else ["-m", "egot2"]
    return subprocess.run([sys.executable, *prefix, *args], capture_output=True, text=True, timeout=300, env=ENV)


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def _same_run(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert json.loads((a / "run.json").read_text())["val"] == json.loads((b / "run.json").read_text())["val"]


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], Path]]:
    """The command of each kind of run and its uninterrupted result."""
    root = tmp_path_factory.mktemp("crash")
    oscc_cache(root / "cache", n_train=48, n_val=23)
    generalist_caches(root / "caches")
    runs = {
        # 48 clips in batches of 8: 6 steps per epoch, 3 epochs.
        "egot2-s": ["train", "--config", str(write_config(root / "s.yaml")), "--cache", str(root / "cache"),
                    "--quiet"],
        # max_size_cycle over 32, 16 and 24 clips in batches of 8: 4 steps per epoch, 2 epochs.
        "egot2-g": ["train", "--config", str(write_config(root / "g.yaml", EGOT2G.replace("dropout: 0.0", "dropout: 0.1"))),
                    "--cache", str(root / "caches"), "--quiet"],
    }
    out = {}
    for name, args in runs.items():
        _ok(_egot2(*args, "--out", str(root / f"{name}-reference"), "train.batch_size=8"))
        out[name] = (args, root / f"{name}-reference")
    return out


@pytest.mark.parametrize(("method", "every", "kill", "resumed_from"), [
    ("egot2-s", 4, 10, 8),  # last.ckpt of step 8, mid-epoch 2 (steps 7-12); steps 9 and 10 are redone
    ("egot2-s", 0, 8, 6),  # last.ckpt after the first epoch's validation
    ("egot2-g", 3, 7, 6),  # mid-epoch 2 (steps 5-8), the TTM loader at the end of a cycle
])
def test_killed_training_resumes_to_the_same_result(setups: dict[str, tuple[list[str], Path]], tmp_path: Path,
                                                    method: str, every: int, kill: int, resumed_from: int) -> None:
    args, reference = setups[method]
    args = [*args, "--out", str(tmp_path / "run"), "train.batch_size=8", f"train.checkpoint_every_steps={every}"]
    killed = _egot2(*args, kill=("train", kill))
    assert killed.returncode == -signal.SIGKILL
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == resumed_from
    assert not (tmp_path / "run" / "run.json").exists()
    _ok(_egot2(*args[:-2], "--resume", *args[-2:]))
    _same_run(reference, tmp_path / "run")


def test_killed_extraction_resumes_to_the_same_cache(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    extract("oscc", tiny_world, [ts_runs["oscc"]], tmp_path / "reference", aux=[], shard_size=1, progress=False)
    cmd = ["oscc", str(tiny_world), str(tmp_path / "c"), "1", str(ts_runs["oscc"])]
    killed = _egot2(*cmd, kill=("extract", 3))  # dies after writing the third shard, before its rename
    assert killed.returncode == -signal.SIGKILL
    train = tmp_path / "c" / "train"
    assert sorted(p.name for p in train.glob("shard-*")) == ["shard-00000.safetensors", "shard-00001.safetensors"]
    assert [p.name for p in train.glob(".shard-00002.safetensors.tmp-*")]  # the unfinished shard, never renamed
    written = extract("oscc", tiny_world, [ts_runs["oscc"]], tmp_path / "c", aux=[], shard_size=1, progress=False)
    assert written["train"] == 2  # only the two clips that were not done
    assert not list(train.glob(".shard-*"))  # the stale temporary file is gone
    _same_cache(tmp_path / "reference", tmp_path / "c")
    (train / "shard-00001.safetensors").unlink()  # a lost shard: the next extraction rebuilds it
    assert extract("oscc", tiny_world, [ts_runs["oscc"]], tmp_path / "c", aux=[], shard_size=1,
                   progress=False)["train"] == 1
    _same_cache(tmp_path / "reference", tmp_path / "c")


def _same_cache(reference: Path, cache: Path) -> None:
    for split in ("train", "val", "test"):
        a, b = CacheSplit(reference, split), CacheSplit(cache, split)
        assert a.ids() == b.ids()
        for cid in a.ids():
            x, y = a.get(cid), b.get(cid)
            assert x.info == y.info and all(torch.equal(x.streams[k], y.streams[k]) for k in x.streams)
            assert all(torch.equal(x.labels[k], y.labels[k]) for k in x.labels)
