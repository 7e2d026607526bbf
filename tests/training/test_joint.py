"""EgoT2-g joint training from per-task caches: one model, every task scored."""

from __future__ import annotations

from pathlib import Path

import torch

from egot2.config import load_config
from egot2.features.cache import CacheItem, CacheWriter, write_meta
from egot2.training.joint import train_generalist
from egot2.training.stage2 import evaluate_run

DIMS = {"lam.frames": 6, "ttm.frames": 6, "asd.frames": 6, "asd.visual": 4}


def _task_cache(root: Path, task: str, n_train: int, n_val: int, seed: int) -> None:
    # LAM clips are video-only: they carry ASD's video pathway (asd.visual), which the config filters out.
    streams_of = {"lam": ["lam.frames", "ttm.frames", "asd.visual"], "ttm": ["ttm.frames", "lam.frames", "asd.frames"],
                  "asd": ["asd.frames", "ttm.frames", "lam.frames"]}[task]
    write_meta(root / task, {"primary": task, "streams": {k: DIMS[k] for k in streams_of}, "dtype": "float32"})
    g = torch.Generator().manual_seed(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        w = CacheWriter(root / task, split, shard_size=64)
        for i in range(n):
            t = 5
            streams = {k: torch.randn(t, DIMS[k], generator=g) for k in streams_of}
            cue = streams[f"{task}.frames"][:, 0]
            if task == "asd":
                label = (cue > 0).long()
            else:
                label = (cue.mean() > 0).long()
                streams[f"{task}.frames"][:, 0] += 1.5 * (2 * label.float() - 1)
            w.add(CacheItem(f"{task}{split}{i}", streams, {"label": label}, {}))
        w.flush()


def _config(tmp_path: Path, epochs: int, batch: int, combine: str):
    f = tmp_path / "g.yaml"
    f.write_text(
        "model:\n  method: egot2-g\n  generalist: {cluster: human-human, decoder_layers: 1, max_len: 8}\n"
        "  streams: [lam.frames, ttm.frames, asd.frames]\n"
        "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.0, positions: task-sinusoidal}\n"
        f"train: {{epochs: {epochs}, batch_size: {batch}, lr: 0.005, optimizer: adam, weight_decay: 0.0, "
        f"combine: {combine}}}\n"
    )
    return load_config([f])


def _caches(tmp_path: Path, sizes: tuple[int, int, int] = (64, 32, 48)) -> Path:
    for i, (task, n) in enumerate(zip(("lam", "ttm", "asd"), sizes, strict=True)):  # datasets of different sizes
        _task_cache(tmp_path / "caches", task, n, 24, seed=i)
    return tmp_path / "caches"


def test_combine_modes_steps_per_epoch(tmp_path: Path) -> None:
    caches = _caches(tmp_path)
    # 64, 32 and 48 clips in batches of 16: min_size stops with the smallest (2 steps), max_size_cycle runs
    # the largest (4 steps) and cycles the others.
    short = train_generalist(_config(tmp_path, 1, 16, "min_size"), caches, tmp_path / "a", progress=False)
    long = train_generalist(_config(tmp_path, 1, 16, "max_size_cycle"), caches, tmp_path / "b", progress=False)
    assert (short["steps"], long["steps"]) == (2, 4)


def test_joint_run_scores_every_task(tmp_path: Path) -> None:
    caches = _caches(tmp_path)
    info = train_generalist(_config(tmp_path, 10, 16, "max_size_cycle"), caches, tmp_path / "run", progress=False)
    assert set(info["val"]) == {"lam", "ttm", "asd"}
    assert info["val"]["lam"]["map"] > 0.75 and info["val"]["ttm"]["map"] > 0.75  # chance: about 0.5
    assert 0.0 <= info["val"]["asd"]["acc"] <= 1.0  # per-frame learning: tests/generalist (more steps needed)
    assert all(v["invalid_rate"] == 0.0 for v in info["val"].values())  # constrained decoding
    again = evaluate_run(tmp_path / "run", "val")
    assert {r["task"]: r["metrics"]["map"] for r in again} == {t: v["map"] for t, v in info["val"].items()}
