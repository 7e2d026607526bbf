"""The hidden-task relation: hiding the auxiliary task that carries the label hurts, hiding one that
carries nothing does not."""

from __future__ import annotations

from pathlib import Path

import torch

from egot2.config import load_config
from egot2.features.cache import CacheItem, CacheWriter, write_meta
from egot2.study.relations import translator_ablation
from egot2.training.stage2 import train_stage2

STREAMS = {"oscc.tokens": 8, "pnr.tokens": 8}


def _cache(root: Path, cue_in: str) -> Path:
    write_meta(root, {"primary": "oscc", "streams": STREAMS, "dtype": "float32"})
    g = torch.Generator().manual_seed(0)
    for split, n in (("train", 96), ("val", 48)):
        writer = CacheWriter(root, split)
        for i in range(n):
            label = int(torch.rand((), generator=g) > 0.5)
            streams = {k: torch.randn(16, d, generator=g) for k, d in STREAMS.items()}
            streams[cue_in][:, 0] += 1.5 if label else -1.5
            writer.add(CacheItem(f"{split}{i:03d}", streams, {"label": torch.tensor(label)}, {"clip_uid": f"c{i}"}))
        writer.flush()
    return root


def _rise(tmp_path: Path, cue_in: str) -> float:
    cache = _cache(tmp_path / f"cache_{cue_in}", cue_in)
    cfg = load_config([], ["model.method=egot2-s", "model.primary=oscc", "model.aux=[pnr]", "model.translator.dim=16",
                           "model.translator.layers=1", "model.translator.heads=2", "model.translator.ffn=32",
                           "model.translator.dropout=0.0", "model.translator.positions=task-sinusoidal",
                           "train.epochs=6", "train.lr=0.003", "train.batch_size=16"])
    run = tmp_path / f"run_{cue_in}"
    train_stage2(cfg, cache, run, progress=False)
    rise = translator_ablation(run, cache)
    assert set(rise) == {"pnr"}
    return rise["pnr"]


def test_hiding_the_informative_auxiliary_task_raises_the_loss(tmp_path: Path) -> None:
    informative = _rise(tmp_path, "pnr.tokens")  # the label is only in the auxiliary (PNR) tokens
    useless = _rise(tmp_path, "oscc.tokens")  # the label is only in the primary's own tokens
    assert informative > 0.2
    assert abs(useless) < 0.1
