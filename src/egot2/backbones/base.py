"""The interface every task-specific (TS) model implements, whatever its family."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from egot2.tasks import TaskSpec, get_task

Batch = Mapping[str, Tensor]


class TSModel(nn.Module):
    """A task-specific model: task outputs for training (stage I) and token streams for translators.

    Input batches are dicts. Keys by task (B = batch):
      pnr, oscc: ``video`` (B, 3, 16, H, W)
      ar: ``slow`` (B, 3, 8, H, W), ``fast`` (B, 3, 32, H, W)
      lta: ``slow`` (B, 2, 3, 8, H, W), ``fast`` (B, 2, 3, 32, H, W)  (clip i is ``[:, i]``)
      lam: ``video`` (B, 7, 3, H, W);  ttm: ``video`` (B, T, 3, H, W), ``audio`` (B, samples) at 16 kHz
      asd: ``video`` (B, T, H, W) grey faces, ``audio`` (B, 4T, 13) MFCC

    Subclasses set ``task`` and implement :meth:`forward` (task logits, a dict) and :meth:`tokens`
    (the named token streams of the task's :class:`~egot2.tasks.TaskSpec`, each ``(B, T_k, D_k)``).
    """

    task: str = ""

    @property
    def spec(self) -> TaskSpec:
        """The :class:`TaskSpec` of this model's task."""
        return get_task(self.task)

    def tokens(self, batch: Batch) -> dict[str, Tensor]:  # pragma: no cover - abstract
        """Named token streams ``{stream: (B, T_k, D_k)}``."""
        raise NotImplementedError

    def forward(self, batch: Batch) -> dict[str, Tensor]:  # pragma: no cover - abstract
        """Task outputs (logits) as a dict."""
        raise NotImplementedError
