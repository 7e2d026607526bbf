"""EgoT2-s: the task-specific translator (paper Sec. 3.1, Eq. 1-4).

Token streams of every frozen TS model -> per-stream projection P_k -> concatenation -> LayerNorm ->
position information -> transformer encoder -> the primary task's head. The forward can also return
the attention weights of every layer from the same pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from egot2.config.schema import TranslatorConfig
from egot2.errors import UserInputError
from egot2.tasks import TaskSpec
from egot2.tasks.heads import build_head, is_per_frame
from egot2.translator.encoder import Encoder
from egot2.translator.layout import InputStream
from egot2.translator.positions import LearnedPositions, TaskSinusoidalPositions
from egot2.translator.projection import StreamProjections
from egot2.translator.streams import check_streams


class EgoT2S(nn.Module):
    """The EgoT2-s translator for one primary task.

    Args:
        primary: the primary task's spec (its head and loss).
        layout: the ordered input streams (see :func:`egot2.translator.layout.plan_streams`).
        cfg: translator hyperparameters.
    """

    def __init__(self, primary: TaskSpec, layout: Sequence[InputStream], cfg: TranslatorConfig) -> None:
        super().__init__()
        self.primary = primary
        self.layout = list(layout)
        self.cfg = cfg
        self.projections = StreamProjections(self.layout, cfg.dim, cfg.feature_dropout)
        self.input_norm = nn.LayerNorm(cfg.dim)
        self.task_order = list(dict.fromkeys(s.task for s in self.layout))
        if cfg.positions == "learned":
            total = cfg.max_tokens
            if total == 0:
                if any(s.tokens is None for s in self.layout):
                    raise UserInputError(
                        "learned positions need fixed-length streams or translator.max_tokens > 0; "
                        "use positions=task-sinusoidal for per-frame streams",
                        field="translator.positions",
                    )
                total = sum(int(s.tokens) for s in self.layout)  # type: ignore[arg-type]
            self.positions: nn.Module = LearnedPositions(total, cfg.dim)
        else:
            self.positions = TaskSinusoidalPositions(len(self.task_order), cfg.dim)
        self.encoder = Encoder(
            cfg.layers, cfg.dim, cfg.heads, cfg.ffn, cfg.dropout, cfg.attn_dropout, cfg.norm_first, cfg.activation
        )
        self.head = build_head(primary, cfg.dim)
        self.per_frame = is_per_frame(primary)
        self.primary_stream = next(s.key for s in self.layout if s.task == primary.name)

    def segments(self, streams: Mapping[str, Tensor]) -> list[tuple[str, int, int]]:
        """``(stream key, start, end)`` of every stream in the concatenated sequence."""
        out, start = [], 0
        for s in self.layout:
            n = streams[s.key].shape[1]
            out.append((s.key, start, start + n))
            start += n
        return out

    def encode(
        self,
        streams: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None, list[Tensor]]:
        """Project, concatenate and encode. Returns tokens (B, N, D), the valid mask (B, N) or None, and
        one attention tensor (B, heads, N, N) per layer when ``need_weights``."""
        check_streams(self.layout, streams, masks)
        masks = masks or {}
        tokens, valid, lengths, task_ids = [], [], [], []
        for s in self.layout:
            x = streams[s.key]
            tokens.append(self.projections(s.key, x))  # (B, T_k, D)
            m = masks.get(s.key)
            valid.append(m if m is not None else torch.ones(x.shape[:2], dtype=torch.bool, device=x.device))
            lengths.append(x.shape[1])
            task_ids.append(self.task_order.index(s.task))
        z = self.input_norm(torch.cat(tokens, dim=1))  # (B, N, D)
        z = self.positions(z, lengths, task_ids)
        mask = torch.cat(valid, dim=1)  # (B, N)
        pad = None if bool(mask.all()) else ~mask
        z, weights = self.encoder(z, pad, need_weights)
        return z, (None if pad is None else mask), weights

    def forward(
        self,
        streams: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        return_attention: bool = False,
    ) -> dict[str, Tensor]:
        """Predict the primary task from ``{"task.stream": (B, T_k, D_k)}``.

        Args:
            streams: one tensor per input stream of the layout.
            masks: optional ``{"task.stream": (B, T_k)}`` bool, True where a token is real (not padding).
            return_attention: also return ``attention`` (layers, B, heads, N, N) from the same pass.

        Returns:
            The head outputs (``logits`` or ``verb``/``noun``), plus ``attention`` if asked.
        """
        z, mask, weights = self.encode(streams, masks, need_weights=return_attention)
        if self.per_frame:
            key, start, end = next(seg for seg in self.segments(streams) if seg[0] == self.primary_stream)
            own_mask = None if mask is None else mask[:, start:end]
            out = self.head(z[:, start:end], own_mask)  # (B, T_p, C)
        else:
            out = self.head(z, mask)
        if return_attention:
            out["attention"] = torch.stack(weights, dim=0)  # (L, B, heads, N, N)
        return out
