"""Multi-task hard parameter sharing (paper Sec. 4.3, Fig. 2b): one shared trunk, one head per task."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from torch import Tensor, nn

from egot2.tasks import get_task
from egot2.tasks.heads import build_head


class HardSharing(nn.Module):
    """A shared trunk with one head per task.

    Args:
        trunk: maps a task's input batch to tokens (B, N, D); shared by every task.
        dim: D, the trunk's output width.
        tasks: the task names, one head each.
        token_fn: optional ``(trunk, batch, task) -> (B, N, D)`` when the trunk needs task-specific
            input handling; default ``trunk(batch)``.
    """

    def __init__(
        self,
        trunk: nn.Module,
        dim: int,
        tasks: list[str],
        token_fn: Callable[[nn.Module, Mapping[str, Tensor], str], Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleDict({t: build_head(get_task(t), dim) for t in tasks})
        self.token_fn = token_fn

    def forward(self, batch: Mapping[str, Tensor], task: str) -> dict[str, Tensor]:
        """Run the shared trunk on ``batch`` and the head of ``task``."""
        tokens = self.token_fn(self.trunk, batch, task) if self.token_fn else self.trunk(batch)  # (B, N, D)
        return self.heads[task](tokens)
