"""Per-stream projections P_k: D_k -> D (paper Eq. 2)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from egot2.translator.layout import InputStream


def module_key(stream_key: str) -> str:
    """``nn.ModuleDict`` keys cannot hold dots: ``"ar.slow"`` -> ``"ar__slow"``."""
    return stream_key.replace(".", "__")


class StreamProjections(nn.Module):
    """One Linear(D_k, D) per input stream, with optional feature dropout on the projected tokens.

    Args:
        layout: the input streams.
        dim: the shared width D.
        feature_dropout: dropout on the projected tokens.
    """

    def __init__(self, layout: Sequence[InputStream], dim: int, feature_dropout: float = 0.0) -> None:
        super().__init__()
        self.proj = nn.ModuleDict({module_key(s.key): nn.Linear(s.dim, dim) for s in layout})
        self.dropout = nn.Dropout(feature_dropout)

    def forward(self, key: str, x: Tensor) -> Tensor:
        """Project stream ``key``: (B, T_k, D_k) -> (B, T_k, D)."""
        return self.dropout(self.proj[module_key(key)](x))
