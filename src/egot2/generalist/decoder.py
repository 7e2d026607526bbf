"""The sequence decoder of EgoT2-g: a transformer decoder that cross-attends to the translator's
encoder output, trained with teacher forcing and run token by token with a key/value cache."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.generalist.attention import KV, CachedAttention
from egot2.translator.encoder import FastDropout
from egot2.translator.positions import sinusoid


@dataclass
class DecoderCache:
    """Per-layer self-attention keys/values so far, and the cross-attention keys/values of the memory."""

    self_kv: list[KV | None] = field(default_factory=list)
    cross_kv: list[KV] = field(default_factory=list)
    length: int = 0
    pointer_keys: Tensor | None = None


class DecoderLayer(nn.Module):
    """Post-LN decoder layer: causal self-attention, cross-attention, feed-forward.

    Args:
        dim: D.
        heads: attention heads.
        ffn: feed-forward width.
        dropout: dropout rate.
        attn_dropout: dropout on the attention weights (default: ``dropout``; any value above 0 makes
            the attention take PyTorch's unfused path, several times slower on long memories).
    """

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float = 0.1, attn_dropout: float | None = None) -> None:
        super().__init__()
        p_attn = dropout if attn_dropout is None else attn_dropout
        self.self_attn = CachedAttention(dim, heads, p_attn)
        self.cross_attn = CachedAttention(dim, heads, p_attn)
        self.linear1 = nn.Linear(dim, ffn)
        self.linear2 = nn.Linear(ffn, dim)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.drop = FastDropout(dropout)

    def forward(
        self,
        x: Tensor,
        self_kv: KV,
        cross_kv: KV,
        memory_pad: Tensor | None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        a, _ = self.self_attn(x, self_kv, causal=True)
        x = self.norm1(x + self.drop(a))
        c, w = self.cross_attn(x, cross_kv, key_pad=memory_pad, need_weights=need_weights)
        x = self.norm2(x + self.drop(c))
        x = self.norm3(x + self.drop(self.linear2(self.drop(F.relu(self.linear1(x))))))
        return x, w


class SequenceDecoder(nn.Module):
    """Token embedding + learned positions -> decoder layers -> vocabulary logits.

    With ``pointer_ids``, the logits of those tokens (a keyframe task's ``frame:k``) can come instead from
    a pointer over K memory tokens (the frames' own tokens): token k's logit is the scaled dot product
    of the decoder state's query and memory token k's key, so "frame k" is read off frame k's token
    rather than learnt as a separate output row per frame.

    Args:
        vocab_size: V.
        dim: D.
        layers: decoder layers.
        heads: attention heads.
        ffn: feed-forward width.
        max_len: longest sequence (prompt + answer + end).
        dropout: dropout rate.
        attn_dropout: dropout on the attention weights (default: ``dropout``).
        pointer_ids: vocabulary ids whose logits a pointer gives (in order: the id pointing at memory
            token k is ``pointer_ids[k]``); empty: none.
    """

    def __init__(
        self, vocab_size: int, dim: int, layers: int, heads: int, ffn: int, max_len: int, dropout: float = 0.1,
        attn_dropout: float | None = None, pointer_ids: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Embedding(max_len, dim)
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, ffn, dropout, attn_dropout) for _ in range(layers))
        self.out = nn.Linear(dim, vocab_size)
        self.drop = FastDropout(dropout)
        self.max_len = max_len
        self.pointer_ids = list(pointer_ids)
        if self.pointer_ids:
            self.register_buffer("_pointer_index", torch.tensor(self.pointer_ids), persistent=False)
            self.point_query = nn.Linear(dim, dim)
            self.point_key = nn.Linear(dim, dim)

    def pointer_keys(self, frames: Tensor | None) -> Tensor | None:
        """Keys (B, K, D) of the memory tokens ``frames`` (B, K, D) the pointer reads; None without."""
        if frames is None or not self.pointer_ids:
            return None
        if frames.shape[1] != len(self.pointer_ids):
            raise ValueError(f"the pointer reads {len(self.pointer_ids)} tokens, got {frames.shape[1]}")
        return self.point_key(frames)

    def logits(self, x: Tensor, keys: Tensor | None = None) -> Tensor:
        """Vocabulary logits of decoder states ``x`` (B, M, D); with pointer ``keys`` (B, K, D) the
        pointer's tokens get the pointer's scores."""
        out = self.out(x)  # (B, M, V)
        if keys is None:
            return out
        scores = self.point_query(x) @ keys.transpose(1, 2) / math.sqrt(x.shape[-1])  # (B, M, K)
        index = self._pointer_index.expand(*scores.shape[:-1], -1)
        return out.scatter(-1, index, scores)

    def _embed(self, tokens: Tensor, start: int) -> Tensor:
        if start + tokens.shape[1] > self.max_len:
            raise ValueError(f"sequence of {start + tokens.shape[1]} tokens exceeds max_len {self.max_len}")
        pos = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        # The fixed sinusoid of position p is also the one the encoder gives frame p of every stream
        # (task-sinusoidal positions), so the step that predicts frame p's label finds frame p easily.
        time_code = sinusoid(start + tokens.shape[1], self.embed.embedding_dim, tokens.device)[start:]
        return self.drop(self.embed(tokens) + self.pos(pos) + time_code)  # (B, M, D)

    def forward(
        self, tokens: Tensor, memory: Tensor, memory_pad: Tensor | None = None, need_weights: bool = False,
        frames: Tensor | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        """Teacher-forced logits (B, M, V) for input ``tokens`` (B, M); cross-attention weights per layer
        (B, H, M, N) when asked. ``frames`` (B, K, D): the memory tokens the pointer reads, if any."""
        x = self._embed(tokens, 0)
        weights = []
        for layer in self.layers:
            x, w = layer(x, layer.self_attn.project_kv(x), layer.cross_attn.project_kv(memory), memory_pad,
                         need_weights)
            if w is not None:
                weights.append(w)
        return self.logits(x, self.pointer_keys(frames)), weights

    def start_cache(self, memory: Tensor, frames: Tensor | None = None) -> DecoderCache:
        """A cache holding the memory's cross-attention keys/values and the pointer's keys of ``frames``
        (computed once)."""
        return DecoderCache(
            self_kv=[None] * len(self.layers),
            cross_kv=[layer.cross_attn.project_kv(memory) for layer in self.layers],
            pointer_keys=self.pointer_keys(frames),
        )

    def step(
        self, tokens: Tensor, cache: DecoderCache, memory_pad: Tensor | None = None, need_weights: bool = False
    ) -> tuple[Tensor, list[Tensor]]:
        """Logits (B, V) of the next token after feeding ``tokens`` (B, S) (new tokens only)."""
        x = self._embed(tokens, cache.length)
        weights = []
        for i, layer in enumerate(self.layers):
            k, v = layer.self_attn.project_kv(x)
            prev = cache.self_kv[i]
            if prev is not None:
                k, v = torch.cat([prev[0], k], dim=2), torch.cat([prev[1], v], dim=2)  # (B, H, L+S, d)
            cache.self_kv[i] = (k, v)
            x, w = layer(x, (k, v), cache.cross_kv[i], memory_pad, need_weights)
            if w is not None:
                weights.append(w)
        cache.length += tokens.shape[1]
        return self.logits(x[:, -1:], cache.pointer_keys)[:, 0], weights
