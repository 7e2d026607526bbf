"""Small synthetic stage-II caches and configs shared by the distributed, crash and error tests."""

from __future__ import annotations

from pathlib import Path

import torch

from egot2.features.cache import CacheItem, CacheWriter, write_meta

STREAMS = {"oscc.tokens": 8, "pnr.tokens": 8}
EGOT2S = (
    "model:\n  method: egot2-s\n  primary: oscc\n  aux: [pnr]\n"
    "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.1, positions: task-sinusoidal}\n"
    "train: {epochs: 3, batch_size: 16, lr: 0.003, optimizer: adam, weight_decay: 0.0}\n"
)


def oscc_cache(root: Path, n_train: int = 48, n_val: int = 23, seed: int = 0, shard_size: int = 16) -> Path:
    """OSCC clips (16 tokens per stream) whose label is planted in both streams. OSCC's loss is a plain mean
    over clips, so DDP over W ranks follows one process with a W times larger batch."""
    write_meta(root, {"primary": "oscc", "streams": STREAMS, "dtype": "float32"})
    g = torch.Generator().manual_seed(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        writer = CacheWriter(root, split, shard_size=shard_size)
        for i in range(n):
            frames = 16
            label = int(torch.rand((), generator=g) > 0.5)
            streams = {k: torch.randn(frames, d, generator=g) for k, d in STREAMS.items()}
            streams["oscc.tokens"][:, 0] += 0.5 if label else -0.5
            streams["pnr.tokens"][:, 1] += 0.5 if label else -0.5
            writer.add(CacheItem(f"{split}{i:03d}", streams, {"label": torch.tensor(label)}, {"clip_uid": f"c{i}"}))
        writer.flush()
    return root


def write_config(path: Path, text: str = EGOT2S) -> Path:
    """Write a config file and return its path."""
    path.write_text(text)
    return path


GENERALIST_DIMS = {"lam.frames": 6, "ttm.frames": 6, "asd.frames": 6}
EGOT2G = (
    "model:\n  method: egot2-g\n  generalist: {cluster: human-human, decoder_layers: 1, max_len: 8}\n"
    "  streams: [lam.frames, ttm.frames, asd.frames]\n"
    "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.0, positions: task-sinusoidal}\n"
    "train: {epochs: 2, batch_size: 8, lr: 0.005, optimizer: adam, weight_decay: 0.0, combine: max_size_cycle}\n"
)


def generalist_caches(root: Path, sizes: dict[str, tuple[int, int]] | None = None) -> Path:
    """One cache per human-human task (``root/<task>``), of different sizes, with a planted label cue."""
    sizes = sizes or {"lam": (32, 11), "ttm": (16, 9), "asd": (24, 10)}
    for seed, (task, (n_train, n_val)) in enumerate(sizes.items()):
        streams_of = [f"{task}.frames"] + [k for k in GENERALIST_DIMS if not k.startswith(task)]
        write_meta(root / task, {"primary": task, "streams": {k: GENERALIST_DIMS[k] for k in streams_of},
                                 "dtype": "float32"})
        g = torch.Generator().manual_seed(seed)
        for split, n in (("train", n_train), ("val", n_val)):
            writer = CacheWriter(root / task, split, shard_size=64)
            for i in range(n):
                streams = {k: torch.randn(5, GENERALIST_DIMS[k], generator=g) for k in streams_of}
                cue = streams[f"{task}.frames"][:, 0]
                label = (cue > 0).long() if task == "asd" else (cue.mean() > 0).long()
                writer.add(CacheItem(f"{task}-{split}{i:03d}", streams, {"label": label}, {}))
            writer.flush()
    return root
