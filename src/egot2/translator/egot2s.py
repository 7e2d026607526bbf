"""EgoT2-s: the task-specific translator (paper Sec. 3.1, Eq. 1-4).

Token streams of every frozen TS model -> :class:`TokenEncoder` (projection P_k, concatenation,
LayerNorm, positions, transformer encoder) -> the primary task's head. The forward can also return the
attention weights of every layer from the same pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from egot2.config.schema import TranslatorConfig
from egot2.errors import UserInputError
from egot2.tasks import TaskSpec
from egot2.tasks.heads import is_per_frame
from egot2.translator.frame_windows import split_windows
from egot2.translator.layout import InputStream
from egot2.translator.token_encoder import Segment, TokenEncoder


class EgoT2S(nn.Module):
    """The EgoT2-s translator for one primary task.

    Args:
        primary: the primary task's spec (its head and loss).
        layout: the ordered input streams (see :func:`egot2.translator.layout.plan_streams`).
        cfg: translator hyperparameters.
        keyframe_head: the head of a keyframe primary (``model.keyframe_head``): ``pooled`` or
            ``per-frame`` (one logit from each of the primary's own frame tokens).
    """

    def __init__(self, primary: TaskSpec, layout: Sequence[InputStream], cfg: TranslatorConfig,
                 keyframe_head: str = "per-frame") -> None:
        super().__init__()
        self.primary = primary
        self.layout = list(layout)
        self.cfg = cfg
        self.encoder = TokenEncoder(self.layout, cfg)
        self.head = primary.build_head(cfg.dim, keyframe_head)
        self.per_frame = is_per_frame(primary)  # one answer per frame of a clip of any length (ASD)
        self.frame_head = bool(getattr(self.head, "per_frame", False))  # the head reads the primary's positions
        if self.frame_head and cfg.pool_streams:
            raise UserInputError(f"translator.pool_streams removes the per-frame tokens {primary.name!r} "
                                 "predicts from", field="translator.pool_streams")
        self.primary_stream = next(s.key for s in self.layout if s.task == primary.name)

    def segments(self, streams: Mapping[str, Tensor]) -> list[Segment]:
        """``(stream key, start, end)`` of every stream in the sequence the encoder reads (of one frame
        window when ``translator.frame_window`` cuts the clip)."""
        windows = self._windows(streams, None)
        return self.encoder.segments(streams if windows is None else windows[0])

    def _windows(self, streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None):  # noqa: ANN202
        if not self.per_frame:
            return None
        return split_windows(self.layout, streams, masks, self.cfg.frame_window)

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
            return_attention: also return ``attention`` (layers, B, heads, N, N) from the same pass; for
                a clip cut into frame windows, (layers, B', heads, N', N') over the windows, with
                ``window_clip`` (B',) naming each window's clip.

        Returns:
            The head outputs (``logits`` or ``verb``/``noun``), plus ``attention`` if asked.
        """
        windows = self._windows(streams, masks)
        if windows is not None:
            streams, masks, index = windows
        z, mask, weights = self.encoder(streams, masks, need_weights=return_attention,
                                        keep_task=self.primary.name if self.frame_head else None)
        if self.frame_head:
            _, start, end = next(seg for seg in self.encoder.segments(streams) if seg[0] == self.primary_stream)
            frames = self.primary.output.num_classes
            if not self.per_frame and end - start != frames:  # a keyframe task scores a fixed set of frames
                raise UserInputError(f"the per-frame keyframe head scores {frames} frames, but the stream has "
                                     f"{end - start} tokens (or use model.keyframe_head=pooled)",
                                     field=self.primary_stream)
            out = self.head(z[:, start:end], None if mask is None else mask[:, start:end])  # (B, T_p, C)
            if windows is not None:
                out = {k: index.merge(v) for k, v in out.items()}  # (B', W, C) -> (B, T, C)
                if return_attention:
                    out["window_clip"] = index.clip
        else:
            out = self.head(z, mask)
        if return_attention:
            out["attention"] = torch.stack(weights, dim=0)  # (L, B, heads, N, N)
        return out
