"""Position information for the concatenated token sequence (REFERENCE section 2).

``learned``: one learned absolute embedding over the whole concatenated sequence (human-object
translators). ``task-sinusoidal``: a fixed sinusoidal encoding restarted at 0 for every stream plus a
learned embedding of the stream's task (human-human translators); it accepts any stream length.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from egot2.errors import UserInputError


def sinusoid(length: int, dim: int, device: torch.device | None = None) -> Tensor:
    """The (length, dim) sinusoidal table of Vaswani et al."""
    pos = torch.arange(length, dtype=torch.float32, device=device).unsqueeze(1)  # (L, 1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return table


class LearnedPositions(nn.Module):
    """A learned absolute embedding over the whole concatenated sequence.

    Args:
        max_tokens: the sequence length it covers.
        dim: D.
    """

    def __init__(self, max_tokens: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, max_tokens, dim))
        nn.init.trunc_normal_(self.embedding, std=0.02)

    def forward(self, x: Tensor, lengths: list[int], task_ids: list[int]) -> Tensor:
        n = x.shape[1]
        if n > self.embedding.shape[1]:
            raise UserInputError(
                f"the token sequence has {n} tokens but the learned position embedding covers "
                f"{self.embedding.shape[1]}; use positions=task-sinusoidal for variable lengths",
                field="translator.positions",
            )
        return x + self.embedding[:, :n]


class TaskSinusoidalPositions(nn.Module):
    """Sinusoidal positions restarted at 0 for each stream, plus a learned task embedding.

    Args:
        num_tasks: number of distinct tasks in the layout.
        dim: D.
    """

    def __init__(self, num_tasks: int, dim: int) -> None:
        super().__init__()
        self.task_embedding = nn.Embedding(num_tasks, dim)

    def forward(self, x: Tensor, lengths: list[int], task_ids: list[int]) -> Tensor:
        parts = []
        for length, tid in zip(lengths, task_ids, strict=True):
            parts.append(sinusoid(length, x.shape[-1], x.device) + self.task_embedding.weight[tid])
        return x + torch.cat(parts, dim=0).unsqueeze(0).to(x.dtype)  # (1, N, D)
