"""How EgoT2-g combines the task losses of one joint step: equal (the paper), uncertainty weighting
(Kendall et al. 2018) or dynamic weight averaging (Liu et al. 2019)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from egot2.errors import UserInputError

WEIGHTINGS = ("equal", "uncertainty", "dwa")


class LossWeighting(nn.Module):
    """Combine ``{task: loss}`` into one scalar.

    Args:
        tasks: task names.
        mode: ``equal`` (sum), ``uncertainty`` (learned log-variances s_k: sum exp(-s_k) L_k + s_k) or
            ``dwa`` (weights K * softmax(r_k / T) from the ratio r_k of each task's last two epoch losses).
        temperature: DWA temperature T.
    """

    def __init__(self, tasks: Sequence[str], mode: str = "equal", temperature: float = 2.0) -> None:
        super().__init__()
        if mode not in WEIGHTINGS:
            raise UserInputError(f"must be one of {list(WEIGHTINGS)}, got {mode!r}", field="train.weighting")
        self.tasks, self.mode, self.temperature = list(tasks), mode, temperature
        if mode == "uncertainty":
            self.log_vars = nn.Parameter(torch.zeros(len(self.tasks)))
        self.history: list[dict[str, float]] = []
        self._epoch: dict[str, list[float]] = {t: [] for t in self.tasks}

    def weights(self) -> dict[str, float]:
        """Current DWA weights (1.0 each until two epochs have been seen)."""
        if self.mode != "dwa" or len(self.history) < 2:
            return {t: 1.0 for t in self.tasks}
        prev, last = self.history[-2], self.history[-1]
        ratios = torch.tensor([last[t] / max(prev[t], 1e-12) for t in self.tasks])
        w = len(self.tasks) * torch.softmax(ratios / self.temperature, dim=0)
        return {t: float(x) for t, x in zip(self.tasks, w, strict=True)}

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        for t, loss in losses.items():
            self._epoch[t].append(float(loss.detach()))
        if self.mode == "uncertainty":
            idx = {t: i for i, t in enumerate(self.tasks)}
            return sum(torch.exp(-self.log_vars[idx[t]]) * loss + self.log_vars[idx[t]] for t, loss in losses.items())
        w = self.weights()
        return sum(w[t] * loss for t, loss in losses.items())  # type: ignore[return-value]

    def end_epoch(self) -> None:
        """Record this epoch's mean task losses (DWA reads the last two)."""
        means = {t: (sum(v) / len(v) if v else math.nan) for t, v in self._epoch.items()}
        self.history.append(means)
        self._epoch = {t: [] for t in self.tasks}
