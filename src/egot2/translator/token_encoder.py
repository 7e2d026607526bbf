"""The shared front of every translator: project each stream, concatenate, LayerNorm, add positions,
run the transformer encoder (paper Eq. 2-3 and the encoder layers).

EgoT2-s reads every stream of its layout. EgoT2-g reads, for each task's batch, whichever streams that
task's clips provide (a subset of the layout, in layout order). Streams that are pooled versions of
another stream of the same task with the same width (``pnr.clip`` of ``pnr.tokens``) share its
projection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from egot2.config.schema import TranslatorConfig
from egot2.errors import UserInputError
from egot2.tasks.heads import masked_mean
from egot2.translator.encoder import Encoder
from egot2.translator.layout import InputStream
from egot2.translator.positions import LearnedPositions, TaskSinusoidalPositions
from egot2.translator.projection import module_key
from egot2.translator.streams import check_streams

Segment = tuple[str, int, int]


def _projection_owner(layout: Sequence[InputStream]) -> dict[str, str]:
    """``stream key -> key of the stream whose projection it uses``."""
    owner: dict[str, str] = {}
    for s in layout:
        owner[s.key] = s.key
        if s.stream == "clip":
            same = [o for o in layout if o.task == s.task and o.stream != "clip" and o.dim == s.dim]
            if same:
                owner[s.key] = same[0].key
    return owner


class TokenEncoder(nn.Module):
    """Projections, input LayerNorm, positions and the transformer encoder.

    Args:
        layout: every stream the encoder may receive, in sequence order.
        cfg: translator hyperparameters.
        require_all: every stream of the layout must be given (EgoT2-s); else any non-empty subset.
    """

    def __init__(self, layout: Sequence[InputStream], cfg: TranslatorConfig, require_all: bool = True) -> None:
        super().__init__()
        self.layout = list(layout)
        self.cfg = cfg
        self.require_all = require_all
        self.owner = _projection_owner(self.layout)
        self.proj = nn.ModuleDict(
            {module_key(s.key): nn.Linear(s.dim, cfg.dim) for s in self.layout if self.owner[s.key] == s.key}
        )
        self.feature_dropout = nn.Dropout(cfg.feature_dropout)
        self.input_norm = nn.LayerNorm(cfg.dim)
        self.task_order = list(dict.fromkeys(s.task for s in self.layout))
        if cfg.positions == "learned":
            total = cfg.max_tokens
            if total == 0 and cfg.pool_streams:
                total = len(self.layout)
            if total == 0:
                if any(s.tokens is None for s in self.layout):
                    raise UserInputError(
                        "learned positions need fixed-length streams or translator.max_tokens > 0; "
                        "use positions=task-sinusoidal for per-frame and precomputed streams",
                        field="translator.positions",
                    )
                total = sum(int(s.tokens) for s in self.layout)  # type: ignore[arg-type]
            self.positions: nn.Module = LearnedPositions(total, cfg.dim)
        else:
            self.positions = TaskSinusoidalPositions(len(self.task_order), cfg.dim)
        self.encoder = Encoder(
            cfg.layers, cfg.dim, cfg.heads, cfg.ffn, cfg.dropout, cfg.attn_dropout, cfg.norm_first, cfg.activation
        )

    def present(self, streams: Mapping[str, Tensor]) -> list[InputStream]:
        """The layout streams found in ``streams``, in layout order (all of them if ``require_all``)."""
        if self.require_all:
            check_streams(self.layout, streams)
            return self.layout
        found = [s for s in self.layout if s.key in streams]
        unknown = sorted(set(streams) - {s.key for s in self.layout})
        if unknown or not found:
            raise UserInputError(
                f"streams {unknown or sorted(streams)} are not in the layout {[s.key for s in self.layout]}",
                field="streams",
            )
        check_streams(found, streams)
        return found

    def segments(self, streams: Mapping[str, Tensor]) -> list[Segment]:
        """``(stream key, start, end)`` of every present stream in the concatenated sequence."""
        out, start = [], 0
        for s in self.present(streams):
            n = 1 if self.cfg.pool_streams else streams[s.key].shape[1]
            out.append((s.key, start, start + n))
            start += n
        return out

    def _drop_tasks(self, valid: list[Tensor], task_ids: list[int], always: str | None) -> list[Tensor]:
        """Hide each task's tokens from each sequence (a clip, or a frame window of one) with probability
        ``task_dropout``; never the task ``always``, and never every task that has a real token there."""
        tasks = sorted(set(task_ids))
        real = torch.stack([torch.stack([v.any(dim=1) for v, t in zip(valid, task_ids, strict=True) if t == task])
                            .any(dim=0) for task in tasks], dim=1)  # (B, tasks): the task has a real token
        keep = torch.rand(real.shape, device=real.device) >= self.cfg.task_dropout  # (B, tasks)
        if always in self.task_order and self.task_order.index(always) in tasks:
            keep[:, tasks.index(self.task_order.index(always))] = True
        none = ~(keep & real).any(dim=1) & real.any(dim=1)
        if bool(none.any()):  # a sequence that lost every task it has keeps one of them, drawn uniformly
            rows = none.nonzero().squeeze(1)
            pick = torch.multinomial(real[rows].float(), 1).squeeze(1)
            keep[rows, pick] = True
        return [v & keep[:, tasks.index(t)].unsqueeze(1) for v, t in zip(valid, task_ids, strict=True)]

    def forward(
        self,
        streams: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        need_weights: bool = False,
        keep_task: str | None = None,
    ) -> tuple[Tensor, Tensor | None, list[Tensor]]:
        """Encode ``{"task.stream": (B, T_k, D_k)}`` (``keep_task``: a task ``translator.task_dropout``
        never hides, the one a per-frame head reads).

        Returns:
            tokens (B, N, D); the valid-token mask (B, N), or None when nothing is padded; one attention
            tensor (B, heads, N, N) per layer when ``need_weights``.
        """
        present = self.present(streams)
        masks = masks or {}
        check_streams(present, streams, masks)
        tokens, valid, lengths, task_ids = [], [], [], []
        for s in present:
            x = streams[s.key]
            m = masks.get(s.key)
            if self.cfg.pool_streams:
                x, m = masked_mean(x, m).unsqueeze(1), None  # (B, 1, D_k)
            tokens.append(self.feature_dropout(self.proj[module_key(self.owner[s.key])](x)))  # (B, T_k, D)
            valid.append(m if m is not None else torch.ones(x.shape[:2], dtype=torch.bool, device=x.device))
            lengths.append(x.shape[1])
            task_ids.append(self.task_order.index(s.task))
        z = self.input_norm(torch.cat(tokens, dim=1))  # (B, N, D)
        z = self.positions(z, lengths, task_ids)
        if self.training and self.cfg.task_dropout > 0:
            valid = self._drop_tasks(valid, task_ids, keep_task)
        mask = torch.cat(valid, dim=1)  # (B, N)
        pad = None if bool(mask.all()) else ~mask
        z, weights = self.encoder(z, pad, need_weights)
        return z, (None if pad is None else mask), weights
