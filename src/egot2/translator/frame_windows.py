"""Translating a long per-frame clip (ASD's 300-frame track chunks) in windows of W frames.

Self-attention over every token of a 300-frame ASD chunk (five per-frame streams: 1,500 tokens) costs
O(N^2); cut into windows of W frames it costs about ``T / W`` times less, and each frame still sees
every stream's tokens of the frames around it. A window holds frames ``[k W, (k + 1) W)`` of every
per-frame stream (the last one padded) and a copy of every fixed-length stream (TTM's one audio
token); windows with no real frame are dropped. Training, evaluation and generation cut the same way,
so a model only ever sees windows. ``translator.frame_window = 0`` (the default) keeps whole clips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from egot2.translator.layout import InputStream


@dataclass(frozen=True)
class FrameWindows:
    """Where each window came from.

    Args:
        clip: the clip (row of the original batch) of each window (B',).
        start: the window's first frame in its clip (B',).
        frames: the original per-frame length T (padded over the batch).
        window: W.
    """

    clip: Tensor
    start: Tensor
    frames: int
    window: int

    def merge(self, x: Tensor, fill: float = 0.0) -> Tensor:
        """Per-window, per-frame values (B', W, ...) back to per-clip values (B, T, ...)."""
        batch = int(self.clip.max()) + 1 if len(self.clip) else 0
        n = -(-self.frames // self.window)
        out = x.new_full((batch, n * self.window, *x.shape[2:]), fill)
        index = self.clip * n + torch.div(self.start, self.window, rounding_mode="floor")
        out.view(batch * n, self.window, *x.shape[2:])[index] = x  # (B * n, W, ...)
        return out[:, : self.frames]

    def split(self, x: Tensor, fill: float = 0.0) -> Tensor:
        """Per-clip, per-frame values (B, T, ...) into the windows (B', W, ...)."""
        n = -(-self.frames // self.window)
        pad = n * self.window - x.shape[1]
        if pad:
            x = torch.cat([x, x.new_full((x.shape[0], pad, *x.shape[2:]), fill)], dim=1)
        x = x.reshape(x.shape[0] * n, self.window, *x.shape[2:])  # (B * n, W, ...)
        return x[self.clip * n + torch.div(self.start, self.window, rounding_mode="floor")]


def per_frame_keys(layout: Sequence[InputStream], streams: Mapping[str, Tensor]) -> list[str]:
    """The present streams with one token per frame (``tokens is None`` in the layout, not precomputed)."""
    return [s.key for s in layout if s.per_frame and s.key in streams]


def split_windows(
    layout: Sequence[InputStream],
    streams: Mapping[str, Tensor],
    masks: Mapping[str, Tensor] | None,
    window: int,
) -> tuple[dict[str, Tensor], dict[str, Tensor], FrameWindows] | None:
    """Cut ``streams`` into windows of ``window`` frames; None when nothing needs cutting.

    Per-frame streams must share one length T (the primary's frames). Returns the windowed streams
    and masks (every per-frame stream gets a mask; fixed-length streams keep theirs, repeated) and the
    :class:`FrameWindows` to merge per-frame outputs back.
    """
    keys = per_frame_keys(layout, streams)
    if window <= 0 or not keys:
        return None
    frames = max(int(streams[k].shape[1]) for k in keys)
    if frames <= window:
        return None
    masks = dict(masks or {})
    b = next(iter(streams.values())).shape[0]
    n = -(-frames // window)
    valid = torch.zeros(b, frames, dtype=torch.bool)
    for k in keys:
        m = masks.get(k)
        t = streams[k].shape[1]
        valid[:, :t] |= m.cpu() if m is not None else torch.ones(b, t, dtype=torch.bool)
    valid = F.pad(valid, (0, n * window - frames)).view(b, n, window).any(dim=-1)  # (B, n)
    clip, which = valid.nonzero(as_tuple=True)
    index = FrameWindows(clip, which * window, frames, window)
    out_s: dict[str, Tensor] = {}
    out_m: dict[str, Tensor] = {}
    for key, x in streams.items():
        m = masks.get(key)
        if key in keys:
            if x.shape[1] < frames:
                x = F.pad(x, (0, 0, 0, frames - x.shape[1]))
            m = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if m is None else \
                F.pad(m, (0, frames - m.shape[1]))
            out_s[key] = index.split(x)  # (B', W, D)
            out_m[key] = index.split(m, fill=False)  # (B', W)
        else:
            out_s[key] = x[index.clip.to(x.device)]  # (B', T_k, D)
            if m is not None:
                out_m[key] = m[index.clip.to(m.device)]
    return out_s, out_m, index
