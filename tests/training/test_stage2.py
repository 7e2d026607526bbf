"""Stage II from a cache: a translator trains, keeps its best checkpoint, and evaluates identically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.features.cache import CacheItem, CacheWriter, write_meta
from egot2.training.stage2 import evaluate_run, train_stage2

STREAMS = {"ttm.frames": 8, "ttm.audio": 4, "lam.frames": 8, "asd.frames": 8}


def make_ttm_cache(root: Path, n_train: int = 96, n_val: int = 48, seed: int = 0) -> Path:
    """TTM clips whose label is planted in the LAM and ASD streams (looking AND speaking)."""
    write_meta(root, {"primary": "ttm", "streams": STREAMS, "dtype": "float32"})
    g = torch.Generator().manual_seed(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        writer = CacheWriter(root, split, shard_size=32)
        for i in range(n):
            frames = int(torch.randint(4, 9, (1,), generator=g))
            looking, speaking = (torch.rand(2, generator=g) > 0.5).tolist()
            streams = {k: torch.randn(1 if k == "ttm.audio" else frames, d, generator=g) for k, d in STREAMS.items()}
            streams["lam.frames"][:, 0] += 2.0 if looking else -2.0
            streams["asd.frames"][:, 0] += 2.0 if speaking else -2.0
            label = torch.tensor(int(looking and speaking))
            writer.add(CacheItem(f"{split}{i}", streams, {"label": label}, {"clip_uid": f"c{i}", "idx": i}))
        writer.flush()
    return root


def _cfg(tmp: Path, *extra: str):
    f = tmp / "cfg.yaml"
    f.write_text(
        "model:\n  method: egot2-s\n  primary: ttm\n  aux: [lam, asd]\n"
        "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.0, positions: task-sinusoidal}\n"
        "train: {epochs: 6, batch_size: 16, lr: 0.003, optimizer: adam, weight_decay: 0.0}\n"
    )
    return load_config([f], list(extra))


def test_train_keeps_best_and_evaluates_the_same(tmp_path: Path) -> None:
    cache = make_ttm_cache(tmp_path / "cache")
    info = train_stage2(_cfg(tmp_path), cache, tmp_path / "run", progress=False)
    assert {"model.safetensors", "config.yaml", "run.json"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert info["val"]["map"] > 0.8  # the planted AND of two auxiliary cues is learnt
    again = evaluate_run(tmp_path / "run", "val")
    assert again["metrics"] == pytest.approx(info["val"], abs=1e-9)
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["streams"] == ["ttm.frames", "ttm.audio", "lam.frames", "asd.frames"]


def test_cache_for_another_primary_is_refused(tmp_path: Path) -> None:
    cache = make_ttm_cache(tmp_path / "cache", 8, 8)
    cfg = _cfg(tmp_path, "model.primary=asd", "model.aux=[lam,ttm]")
    with pytest.raises(UserInputError, match="extracted for primary 'ttm'"):
        train_stage2(cfg, cache, tmp_path / "run", progress=False)


def test_dims_that_do_not_match_the_cache(tmp_path: Path) -> None:
    cache = make_ttm_cache(tmp_path / "cache", 8, 8)
    with pytest.raises(UserInputError, match="lam.frames"):
        train_stage2(_cfg(tmp_path, "model.dims={lam.frames: 256}"), cache, tmp_path / "run", progress=False)
