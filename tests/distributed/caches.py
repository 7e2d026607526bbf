"""Small synthetic stage-II caches and configs shared by the distributed, crash and error tests."""

from __future__ import annotations

from pathlib import Path

import torch

from egot2.features.cache import CacheItem, CacheWriter, write_meta

STREAMS = {"ttm.frames": 8, "ttm.audio": 4, "lam.frames": 8, "asd.frames": 8}
EGOT2S = (
    "model:\n  method: egot2-s\n  primary: ttm\n  aux: [lam, asd]\n"
    "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.1, positions: task-sinusoidal}\n"
    "train: {epochs: 3, batch_size: 16, lr: 0.003, optimizer: adam, weight_decay: 0.0}\n"
)


def ttm_cache(root: Path, n_train: int = 48, n_val: int = 23, seed: int = 0, shard_size: int = 16) -> Path:
    """TTM clips (4 to 8 frames) whose label is planted in the LAM and ASD streams."""
    write_meta(root, {"primary": "ttm", "streams": STREAMS, "dtype": "float32"})
    g = torch.Generator().manual_seed(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        writer = CacheWriter(root, split, shard_size=shard_size)
        for i in range(n):
            frames = int(torch.randint(4, 9, (1,), generator=g))
            looking, speaking = (torch.rand(2, generator=g) > 0.5).tolist()
            streams = {k: torch.randn(1 if k == "ttm.audio" else frames, d, generator=g) for k, d in STREAMS.items()}
            streams["lam.frames"][:, 0] += 1.0 if looking else -1.0
            streams["asd.frames"][:, 0] += 1.0 if speaking else -1.0
            label = torch.tensor(int(looking and speaking))
            writer.add(CacheItem(f"{split}{i:03d}", streams, {"label": label}, {"clip_uid": f"c{i}"}))
        writer.flush()
    return root


def write_config(path: Path, text: str = EGOT2S) -> Path:
    """Write a config file and return its path."""
    path.write_text(text)
    return path
