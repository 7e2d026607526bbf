"""Multi-head attention with an optional key/value cache for token-by-token generation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

KV = tuple[Tensor, Tensor]


class CachedAttention(nn.Module):
    """Multi-head attention whose keys and values can be cached between generation steps.

    Args:
        dim: model width D.
        heads: attention heads.
        dropout: dropout on attention weights.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def _split(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # (B, H, N, d)

    def project_kv(self, source: Tensor) -> KV:
        """Keys and values of ``source`` (B, N, D), each (B, H, N, d)."""
        return self._split(self.k(source)), self._split(self.v(source))

    def forward(
        self,
        query: Tensor,
        kv: KV,
        causal: bool = False,
        key_pad: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend ``query`` (B, Q, D) over cached ``kv``.

        Args:
            query: queries.
            kv: keys and values (B, H, N, d).
            causal: query i sees keys up to position N - Q + i.
            key_pad: (B, N) True where a key is padding.
            need_weights: also return the weights (B, H, Q, N).
        """
        q = self._split(self.q(query))  # (B, H, Q, d)
        k, v = kv
        n_q, n_k = q.shape[2], k.shape[2]
        mask = None
        if causal or key_pad is not None:
            mask = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device)
            if causal:
                mask = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(n_k - n_q)
            mask = mask[None, None]  # (1, 1, Q, N)
            if key_pad is not None:
                mask = mask & ~key_pad[:, None, None, :]
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)  # (B, H, Q, N)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            out = F.dropout(weights, p, self.training) @ v
        else:
            weights = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = out.transpose(1, 2).reshape(query.shape[0], n_q, -1)  # (B, Q, D)
        return self.out(out), weights
