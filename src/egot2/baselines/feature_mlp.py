"""Finetuning, Transfer and Late Fusion (paper Sec. 4.1, Fig. 2a): a few trained layers over frozen
task features.

All three are one model over different streams: every stream is aligned in time to the primary's own
token count (linear resampling; per-frame streams already match), the streams are concatenated along
features, a token-wise MLP follows, then the primary task's head. Finetuning reads only the primary's
features, Transfer one auxiliary task's, Late Fusion the primary's and every auxiliary task's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.config.schema import FusionConfig
from egot2.tasks import TaskSpec
from egot2.tasks.heads import build_head, is_per_frame
from egot2.translator.layout import InputStream
from egot2.translator.streams import check_streams


def align_time(x: Tensor, length: int) -> Tensor:
    """Resample ``x`` (B, T, D) to (B, length, D) by linear interpolation (identity if T == length)."""
    if x.shape[1] == length:
        return x
    if x.shape[1] == 1:
        return x.expand(-1, length, -1)
    y = F.interpolate(x.transpose(1, 2), size=length, mode="linear", align_corners=False)  # (B, D, length)
    return y.transpose(1, 2)


def align_padded(x: Tensor, mask: Tensor | None, length: int, target: Tensor | None = None) -> Tensor:
    """Resample each clip's real tokens of a padded stream (``x`` (B, T, D), ``mask`` (B, T)) to the clip's
    own length (``target`` (B,) real token counts, default ``length``), padded to (B, length, D): a stream
    whose tokens are not aligned with the time stream's (precomputed features)."""
    if mask is None and target is None:
        return align_time(x, length)
    out = x.new_zeros(x.shape[0], length, x.shape[2])
    for i in range(x.shape[0]):
        n = x.shape[1] if mask is None else max(int(mask[i].sum()), 1)
        t = length if target is None else int(target[i])
        out[i, :t] = align_time(x[i : i + 1, :n], t)[0]
    return out


class FeatureMLP(nn.Module):
    """A token-wise MLP over time-aligned, concatenated frozen features, then the primary's head.

    Args:
        primary: the primary task (its head).
        layout: the streams to read.
        cfg: hidden width, depth and dropout.
        time_from: stream key whose token count the others are aligned to (default: the first stream).
        keyframe_head: the head of a keyframe primary (``model.keyframe_head``); with ``per-frame`` every
            stream is aligned to the keyframe task's frames (16 for PNR) and each frame scored.
    """

    def __init__(
        self, primary: TaskSpec, layout: Sequence[InputStream], cfg: FusionConfig, time_from: str | None = None,
        keyframe_head: str = "per-frame",
    ) -> None:
        super().__init__()
        self.primary = primary
        self.layout = list(layout)
        self.time_from = time_from or self.layout[0].key
        width = sum(s.dim for s in self.layout)
        layers: list[nn.Module] = [nn.LayerNorm(width)]
        for _ in range(cfg.layers):
            layers += [nn.Linear(width, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout)]
            width = cfg.hidden
        self.mlp = nn.Sequential(*layers)
        self.head = build_head(primary, width, keyframe_head)
        self.per_frame = is_per_frame(primary)
        # a per-frame keyframe head scores the task's frames, whatever the streams' own token counts
        self.frames = primary.output.num_classes if getattr(self.head, "per_frame", False) and not self.per_frame else None

    def forward(self, streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
        """Predict the primary task from ``{"task.stream": (B, T_k, D_k)}``."""
        check_streams(self.layout, streams, masks)
        masks = masks or {}
        length = self.frames or streams[self.time_from].shape[1]
        mask = None if self.frames else masks.get(self.time_from)
        target = None if mask is None else mask.sum(dim=1)  # (B,) real tokens of the time stream
        x = torch.cat([align_padded(streams[s.key], masks.get(s.key), length, target) if s.precomputed
                       else align_time(streams[s.key], length) for s in self.layout], dim=-1)  # (B, T, sum D_k)
        return self.head(self.mlp(x), mask)
