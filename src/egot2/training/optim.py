"""Optimisers and schedules named by :class:`~egot2.config.TrainConfig`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from egot2.config.schema import TrainConfig
from egot2.errors import UserInputError


def build_optimizer(params: Iterable[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, Adam, or SGD with Nesterov momentum (the authors' AR setting)."""
    params = [p for p in params if p.requires_grad]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    raise UserInputError(f"unknown optimizer {cfg.optimizer!r}; valid: adamw, adam, sgd", field="train.optimizer")


def build_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> dict[str, Any] | None:
    """A Lightning scheduler dict, stepped per optimisation step, or None."""
    if cfg.scheduler == "none":
        return None
    if cfg.scheduler == "cosine":
        sched: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    elif cfg.scheduler == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.95 ** (1 / max(total_steps, 1) * 100))
    else:
        raise UserInputError(f"unknown scheduler {cfg.scheduler!r}; valid: none, cosine, step",
                             field="train.scheduler")
    return {"scheduler": sched, "interval": "step"}
