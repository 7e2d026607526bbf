"""Parameter counting."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ParamCount:
    """Trainable and total parameter counts of a model (shared tensors counted once)."""

    trainable: int
    total: int

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(self.trainable + other.trainable, self.total + other.total)


def count_parameters(module: nn.Module) -> ParamCount:
    """Count the trainable and total parameters of ``module``."""
    seen: set[int] = set()
    trainable = total = 0
    for p in module.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return ParamCount(trainable=trainable, total=total)
