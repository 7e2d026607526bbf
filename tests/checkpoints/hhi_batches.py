"""Random inputs and labels for the LAM, TTM and ASD TS models (shared by their tests)."""

from __future__ import annotations

import torch


def make_batch(task: str, b: int = 2, t: int = 5, face: int = 64) -> dict[str, torch.Tensor]:
    """Random inputs of ``task``: faces ``face`` x ``face``, ``t`` frames (TTM audio: t/30 s at 16 kHz)."""
    if task == "lam":
        return {"video": torch.randn(b, t, 3, face, face)}
    if task == "ttm":
        return {"video": torch.randn(b, t, 3, face, face), "audio": torch.randn(b, t * 16000 // 30)}
    return {"video": 255 * torch.rand(b, t, face, face), "audio": torch.randn(b, 4 * t, 13)}


def make_labels(task: str, b: int = 2, t: int = 5) -> dict[str, torch.Tensor]:
    """Alternating 0/1 labels: per clip (LAM, TTM) or per frame (ASD)."""
    if task == "asd":
        return {"label": torch.arange(b * t).remainder(2).view(b, t)}
    return {"label": torch.arange(b).remainder(2)}
