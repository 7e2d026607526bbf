"""Batching the datasets' sample dicts: stack, pad variable-length tensors, gather skip markers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

#: Padding value per key; ``label`` pads with the cross-entropy ignore index.
PAD_VALUES = {"label": -100, "frames": -1}


def collate(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch ``samples`` (dicts from the task datasets).

    Tensors of equal shape are stacked. Tensors whose first dimension differs (TTM and ASD lengths)
    are padded at the end (with 0, ``label`` with -100, ``frames`` with -1) and their true lengths
    are given as ``<key>_lengths`` (B,). Other values become lists. Markers of skipped items
    (``{"skipped": key, "reason": ...}`` with ``skip_bad``) are removed and listed in
    ``batch["skipped"]`` as ``(key, reason)`` pairs, so a consumer with worker processes still sees
    every skip.
    """
    skipped = [(s["skipped"], s["reason"]) for s in samples if "skipped" in s]
    samples = [s for s in samples if "skipped" not in s]
    batch: dict[str, Any] = {"skipped": skipped}
    if not samples:
        return batch
    for key in samples[0]:
        values = [s[key] for s in samples]
        if not isinstance(values[0], torch.Tensor):
            batch[key] = values
            continue
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) == 1:
            batch[key] = torch.stack(values)
            continue
        lengths = torch.tensor([v.shape[0] for v in values])
        out = values[0].new_full((len(values), int(lengths.max()), *values[0].shape[1:]), PAD_VALUES.get(key, 0))
        for i, v in enumerate(values):
            out[i, : v.shape[0]] = v
        batch[key] = out
        batch[f"{key}_lengths"] = lengths
    return batch
