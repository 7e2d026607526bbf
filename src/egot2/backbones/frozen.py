"""Freezing a TS model: eval mode AND no gradients, in one place, and it cannot drift back."""

from __future__ import annotations

from torch import Tensor, nn

from egot2.backbones.base import Batch, TSModel
from egot2.tasks import StreamSpec, TaskSpec


class FrozenTS(nn.Module):
    """A frozen TS model behind the small interface every later stage uses.

    ``FrozenTS(model)(batch)`` returns the named token streams ``{stream: (B, T_k, D_k)}``. The wrapped
    model is in eval mode with ``requires_grad`` off, and :meth:`train` never switches it back, so a
    training-mode forward of a translator that holds it cannot update BatchNorm statistics (the authors'
    release let Lightning put frozen backbones back in train mode).

    Args:
        model: the TS model to freeze.
    """

    def __init__(self, model: TSModel) -> None:
        super().__init__()
        self.model = model
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.model.eval()

    def train(self, mode: bool = True) -> FrozenTS:
        """Keep the wrapped model in eval mode whatever ``mode`` is."""
        super().train(mode)
        self.model.eval()
        return self

    @property
    def spec(self) -> TaskSpec:
        """The wrapped model's task spec (span, fps, modalities)."""
        return self.model.spec

    @property
    def streams(self) -> tuple[StreamSpec, ...]:
        """The token streams and their dims."""
        return self.spec.streams

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        """Token streams of ``batch``; no autograd graph is built."""
        import torch

        with torch.no_grad():
            return self.model.tokens(batch)
