"""Batches of cached token streams for stage II: a dataset over a cache split and its collate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit
from egot2.tasks.losses import IGNORE_INDEX


class CachedStreams(Dataset):
    """The clips of one cache split, each ``{"id", "streams", "labels", "info"}``.

    Args:
        split: the cache split.
        keys: the ``task.stream`` keys the model reads (all must be in the cache).
    """

    def __init__(self, split: CacheSplit, keys: Sequence[str]) -> None:
        self.split, self.keys = split, list(keys)
        have = set(split.meta["streams"])
        missing = [k for k in self.keys if k not in have]
        if missing:
            raise UserInputError(f"the cache has no streams {missing}; it holds {sorted(have)}",
                                 file=split.root / "meta.json", field="streams")
        self.ids = split.ids()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = self.split.get(self.ids[i])
        return {"id": item.clip_id, "streams": {k: item.streams[k] for k in self.keys}, "labels": item.labels,
                "info": item.info}


def _pad(parts: Sequence[Tensor], value: float) -> tuple[Tensor, Tensor]:
    """Stack (T_i, ...) tensors into (B, T_max, ...) and a (B, T_max) validity mask."""
    longest = max(p.shape[0] for p in parts)
    out = parts[0].new_full((len(parts), longest, *parts[0].shape[1:]), value)
    mask = torch.zeros(len(parts), longest, dtype=torch.bool)
    for i, p in enumerate(parts):
        out[i, : p.shape[0]] = p
        mask[i, : p.shape[0]] = True
    return out, mask


def collate_cached(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pad per-frame streams and labels; masks only for streams whose lengths differ in the batch."""
    streams, masks = {}, {}
    for key in items[0]["streams"]:
        parts = [it["streams"][key] for it in items]
        if len({p.shape[0] for p in parts}) == 1:
            streams[key] = torch.stack(parts)  # (B, T, D)
        else:
            streams[key], masks[key] = _pad(parts, 0.0)
    labels = {}
    for key in items[0]["labels"]:
        parts = [it["labels"][key] for it in items]
        if len({p.shape for p in parts}) == 1:
            labels[key] = torch.stack(parts)  # (B,) for scalar labels, (B, Z) for sequences
        else:
            labels[key], _ = _pad(parts, IGNORE_INDEX)
    return {"ids": [it["id"] for it in items], "streams": streams, "masks": masks, "labels": labels,
            "infos": [it["info"] for it in items]}


def translator_forward(model: torch.nn.Module, batch: dict[str, Any]) -> dict[str, Tensor]:
    """Stage-II forward: the model reads the batch's streams and masks."""
    return model(batch["streams"], batch["masks"] or None)
