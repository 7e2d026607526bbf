"""The SlowFast 8x8 R101 family: the AR task-specific model and the LTA clip encoder.

Two pathways: slow (8 frames, ``width`` channels in the stem) and fast (``alpha`` = 4 times the frames,
``width / beta_inv`` channels), with a time-strided convolution fusing fast into slow after the stem and
after res2..res4. res5 is 2048 x 8 x 7 x 7 (slow) and 256 x 32 x 7 x 7 (fast) at 224 x 224.

AR pools each pathway globally, concatenates (2304) and projects to 115 verbs and 478 nouns (CE on
each). Its tokens are res5 averaged over space: slow 8 x 2048, fast averaged to the slow frame count,
8 x 256.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.backbones.base import Batch, TSModel
from egot2.backbones.blocks3d import PathwayStage, ResStage, VideoStem, init_resnet_weights
from egot2.backbones.hoi_inputs import check_channels, check_time_ratio, get_labels, get_tensor
from egot2.errors import UserInputError
from egot2.tasks.ego4d import NUM_NOUNS, NUM_VERBS

AR_LAYOUT = {"slow": "(B, 3, T, H, W)", "fast": "(B, 3, alpha * T, H, W)"}


@dataclass(frozen=True)
class SlowFastConfig:
    """Widths and depths of a SlowFast network.

    Args:
        width: slow stem channels; slow res5 has ``32 * width`` channels.
        beta_inv: the fast pathway is ``beta_inv`` times narrower.
        alpha: the fast pathway sees ``alpha`` times the frames.
        fusion_ratio: fast-to-slow fusion channels = ``fusion_ratio`` x fast channels.
        fusion_kernel: temporal kernel of the fusion conv.
        blocks: residual blocks in res2..res5 (R101: 3, 4, 23, 3).
        slow_t_kernels: temporal kernels of the slow pathway (conv1, res2..res5).
        fast_t_kernels: the same for the fast pathway.
        dropout: dropout before any projection head.
    """

    width: int = 64
    beta_inv: int = 8
    alpha: int = 4
    fusion_ratio: int = 2
    fusion_kernel: int = 5
    blocks: tuple[int, int, int, int] = (3, 4, 23, 3)
    slow_t_kernels: tuple[int, int, int, int, int] = (1, 1, 1, 3, 3)
    fast_t_kernels: tuple[int, int, int, int, int] = (5, 3, 3, 3, 3)
    dropout: float = 0.5

    @property
    def fast_width(self) -> int:
        """Fast stem channels."""
        return self.width // self.beta_inv

    @property
    def slow_dim(self) -> int:
        """Channels of slow res5."""
        return 32 * self.width

    @property
    def fast_dim(self) -> int:
        """Channels of fast res5."""
        return 32 * self.fast_width


CONFIGS: dict[str, SlowFastConfig] = {
    "full": SlowFastConfig(),
    "tiny": SlowFastConfig(width=8, beta_inv=4, blocks=(1, 1, 1, 1), dropout=0.1),
}


def slowfast_config(size: str) -> SlowFastConfig:
    """The SlowFast configuration of ``size`` (``"full"`` or ``"tiny"``)."""
    if size not in CONFIGS:
        raise UserInputError(f"unknown TS size {size!r}; valid: {list(CONFIGS)}", field="size")
    return CONFIGS[size]


class FuseFastToSlow(nn.Module):
    """Concatenate a time-strided conv of the fast pathway onto the slow pathway.

    Args:
        dim_fast: fast channels.
        ratio: output channels = ``ratio * dim_fast``.
        kernel: temporal kernel.
        alpha: temporal stride (the frame-rate ratio).
    """

    def __init__(self, dim_fast: int, ratio: int, kernel: int, alpha: int) -> None:
        super().__init__()
        self.conv_f2s = nn.Conv3d(
            dim_fast,
            dim_fast * ratio,
            (kernel, 1, 1),
            stride=(alpha, 1, 1),
            padding=(kernel // 2, 0, 0),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(dim_fast * ratio)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        slow, fast = xs
        fused = self.relu(self.bn(self.conv_f2s(fast)))
        return [torch.cat([slow, fused], dim=1), fast]


def pool_pathways(res5: Sequence[Tensor]) -> Tensor:
    """Average every pathway over (T, H, W) and concatenate: ``(B, sum C)``."""
    return torch.cat([x.mean(dim=(2, 3, 4)) for x in res5], dim=1)


class ClipHead(nn.Module):
    """Global pooling of both pathways, dropout, ``projection`` (the LTA clip head, no activation).

    Args:
        dim_in: pooled size (slow + fast channels).
        dim_out: output size.
        dropout: dropout rate.
    """

    def __init__(self, dim_in: int, dim_out: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(dim_in, dim_out)

    def forward(self, res5: Sequence[Tensor]) -> Tensor:
        return self.projection(self.dropout(pool_pathways(res5)))


class SlowFast(nn.Module):
    """The two-pathway network: stages ``s1``..``s5`` with fusions ``s1_fuse``..``s4_fuse``.

    Args:
        cfg: widths and depths.
        head_dim: if given, add ``head`` (:class:`ClipHead` to ``head_dim``) and make :meth:`forward`
            return its output; otherwise :meth:`forward` returns the two res5 maps.
    """

    def __init__(self, cfg: SlowFastConfig, head_dim: int | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        w, wf, r = cfg.width, cfg.fast_width, cfg.fusion_ratio
        self.s1 = VideoStem([w, wf], [cfg.slow_t_kernels[0], cfg.fast_t_kernels[0]])
        slow_in, fast_in = w, wf
        for i, (n, stride) in enumerate(zip(cfg.blocks, (1, 2, 2, 2), strict=True)):
            self.add_module(f"s{i + 1}_fuse", FuseFastToSlow(fast_in, r, cfg.fusion_kernel, cfg.alpha))
            mult = 4 * 2**i
            stage = ResStage(
                [
                    PathwayStage(slow_in + r * fast_in, w * mult, w * 2**i, cfg.slow_t_kernels[i + 1]),
                    PathwayStage(fast_in, wf * mult, wf * 2**i, cfg.fast_t_kernels[i + 1]),
                ],
                n,
                stride,
            )
            self.add_module(f"s{i + 2}", stage)
            slow_in, fast_in = w * mult, wf * mult
        self.dims = (slow_in, fast_in)
        if head_dim is not None:
            self.head = ClipHead(sum(self.dims), head_dim, cfg.dropout)
        init_resnet_weights(self)

    def features(self, slow: Tensor, fast: Tensor) -> list[Tensor]:
        """res5 of both pathways: ``[(B, Cs, T, h, w), (B, Cf, alpha * T, h, w)]``."""
        xs = self.s1([slow, fast])
        for i in range(1, 5):
            xs = getattr(self, f"s{i}_fuse")(xs)
            xs = getattr(self, f"s{i + 1}")(xs)
        return xs

    def forward(self, slow: Tensor, fast: Tensor) -> Tensor | list[Tensor]:
        res5 = self.features(slow, fast)
        return self.head(res5) if hasattr(self, "head") else res5


def pathway_tokens(res5: Sequence[Tensor]) -> dict[str, Tensor]:
    """``slow``: res5 averaged over space, ``(B, T, Cs)``; ``fast``: also averaged to T steps, ``(B, T, Cf)``."""
    slow = res5[0].mean(dim=(3, 4))  # (B, Cs, T)
    fast = F.adaptive_avg_pool1d(res5[1].mean(dim=(3, 4)), slow.shape[-1])  # (B, Cf, T)
    return {"slow": slow.transpose(1, 2), "fast": fast.transpose(1, 2)}


def slowfast_inputs(batch: Batch, alpha: int, clips: bool = False) -> tuple[Tensor, Tensor]:
    """The checked ``slow`` and ``fast`` tensors of a batch (with a clip axis after B if ``clips``)."""
    ndim = 6 if clips else 5
    pre = "(B, S, " if clips else "(B, "
    slow = get_tensor(batch, "slow", ndim, pre + "3, T, H, W)")
    fast = get_tensor(batch, "fast", ndim, pre + f"3, {alpha}*T, H, W)")
    for key, x in (("slow", slow), ("fast", fast)):
        check_channels(x, key, pre + "3, T, H, W)", ndim - 4)
    check_time_ratio(slow, fast, alpha, t_dim=ndim - 3)
    if clips and slow.shape[1] != fast.shape[1]:
        raise UserInputError(
            f"'slow' and 'fast' must hold the same clips, got {slow.shape[1]} and {fast.shape[1]}"
        )
    return slow, fast


class MultiProjectionHead(nn.Module):
    """Dropout, then one ``Linear`` per output (``projections``) on the pooled 2304-d clip feature.

    Args:
        dim_in: input size.
        num_classes: outputs of each projection.
        dropout: dropout rate.
    """

    def __init__(self, dim_in: int, num_classes: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.projections = nn.ModuleList(nn.Linear(dim_in, n) for n in num_classes)
        for p in self.projections:
            nn.init.normal_(p.weight, std=0.01)
            nn.init.zeros_(p.bias)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.dropout(x)
        return [p(x) for p in self.projections]


class ARModel(TSModel):
    """Action recognition: SlowFast, global pooling, verb and noun projections.

    ``forward`` returns ``{"verb": (B, 115), "noun": (B, 478)}`` (logits); ``loss`` is the sum of the
    two CEs against ``labels["verb"]``, ``labels["noun"]`` (B,). ``stream_dims`` gives the token sizes
    (full: slow 2048, fast 256; tiny: 256, 64).

    Args:
        cfg: widths and depths.
        num_verbs: verb classes.
        num_nouns: noun classes.
    """

    task = "ar"

    def __init__(self, cfg: SlowFastConfig, num_verbs: int = NUM_VERBS, num_nouns: int = NUM_NOUNS) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = SlowFast(cfg)
        self.head = MultiProjectionHead(sum(self.backbone.dims), (num_verbs, num_nouns), cfg.dropout)
        self.stream_dims: dict[str, int] = {"slow": cfg.slow_dim, "fast": cfg.fast_dim}

    def _res5(self, batch: Batch) -> list[Tensor]:
        slow, fast = slowfast_inputs(batch, self.cfg.alpha)
        return self.backbone.features(slow, fast)

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        """``{"slow": (B, 8, Cs), "fast": (B, 8, Cf)}`` for 8 slow frames."""
        return pathway_tokens(self._res5(batch))

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        verb, noun = self.head(pool_pathways(self._res5(batch)))
        return {"verb": verb, "noun": noun}

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Verb CE + noun CE."""
        ys = {k: get_labels(labels, k, outputs[k].shape[:1], outputs[k].shape[1]) for k in ("verb", "noun")}
        return self.spec.compute_loss(outputs, ys)


def build_ar(size: str = "tiny") -> ARModel:
    """The AR TS model at ``size`` (``"full"``: 63.27M parameters, as released)."""
    return ARModel(slowfast_config(size))
