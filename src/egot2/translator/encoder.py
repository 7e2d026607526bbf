"""A transformer encoder that can also return every layer's attention weights from the same pass.

Parameter names follow ``torch.nn.TransformerEncoderLayer`` (``self_attn``, ``linear1``, ``linear2``,
``norm1``, ``norm2``), so state dicts of the authors' translators map by name. Post-LN is the default
(as the authors used); ``norm_first=True`` gives pre-LN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class FastDropout(nn.Module):
    """Inverted dropout whose mask comes from ``uniform_`` (multi-threaded) rather than ``bernoulli_``
    (single-threaded on CPU, up to 44% of a paper TTM training step). Same distribution as
    :class:`torch.nn.Dropout`; no parameters, so state dicts are unchanged.

    Args:
        p: drop probability.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).uniform_() >= self.p
        return x * keep / (1.0 - self.p)


class EncoderLayer(nn.Module):
    """One transformer encoder layer (self-attention + feed-forward).

    Args:
        dim: model width D.
        heads: attention heads.
        ffn: feed-forward hidden size.
        dropout: dropout in the feed-forward path and on the residual branches.
        attn_dropout: dropout on the attention weights.
        norm_first: pre-LN if True, post-LN otherwise.
        activation: ``"relu"`` or ``"gelu"``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        ffn: int,
        dropout: float = 0.1,
        attn_dropout: float | None = None,
        norm_first: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            dim, heads, dropout=dropout if attn_dropout is None else attn_dropout, batch_first=True
        )
        self.linear1 = nn.Linear(dim, ffn)
        self.linear2 = nn.Linear(ffn, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = FastDropout(dropout)
        self.dropout1 = FastDropout(dropout)
        self.dropout2 = FastDropout(dropout)
        self.norm_first = norm_first
        if activation not in ("relu", "gelu"):
            raise ValueError(f"activation must be relu or gelu, got {activation!r}")
        self.activation = F.relu if activation == "relu" else F.gelu

    def _attend(self, x: Tensor, pad: Tensor | None, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        out, weights = self.self_attn(
            x, x, x, key_padding_mask=pad, need_weights=need_weights, average_attn_weights=False
        )
        return self.dropout1(out), weights  # weights: (B, heads, N, N)

    def _ff(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self, x: Tensor, pad: Tensor | None = None, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        """``x`` (B, N, D); ``pad`` (B, N) True where a token is padding. Returns (x, weights or None)."""
        if self.norm_first:
            a, w = self._attend(self.norm1(x), pad, need_weights)
            x = x + a
            x = x + self._ff(self.norm2(x))
        else:
            a, w = self._attend(x, pad, need_weights)
            x = self.norm1(x + a)
            x = self.norm2(x + self._ff(x))
        return x, w


class Encoder(nn.Module):
    """A stack of :class:`EncoderLayer` (with a final LayerNorm when pre-LN).

    Args:
        layers: L.
        dim: D.
        heads: attention heads.
        ffn: feed-forward hidden size.
        dropout: dropout rate.
        attn_dropout: attention-weight dropout (default: ``dropout``).
        norm_first: pre-LN if True.
        activation: ``"relu"`` or ``"gelu"``.
    """

    def __init__(
        self,
        layers: int,
        dim: int,
        heads: int,
        ffn: int,
        dropout: float = 0.1,
        attn_dropout: float | None = None,
        norm_first: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(dim, heads, ffn, dropout, attn_dropout, norm_first, activation) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim) if norm_first else nn.Identity()

    def forward(
        self, x: Tensor, pad: Tensor | None = None, need_weights: bool = False
    ) -> tuple[Tensor, list[Tensor]]:
        """Returns the encoded tokens (B, N, D) and, if asked, one (B, heads, N, N) tensor per layer."""
        weights: list[Tensor] = []
        for layer in self.layers:
            x, w = layer(x, pad, need_weights)
            if w is not None:
                weights.append(w)
        return self.norm(x), weights
