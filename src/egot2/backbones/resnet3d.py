"""The I3D ResNet-50 "slow_layer5" family: the PNR and OSCC task-specific models.

A single-pathway 3D ResNet with temporal kernel 3 in conv1 and in the first conv of every block and no
temporal pooling, so a 16-frame clip keeps 16 steps down to res5. The head averages res5 over a sliding
spatial window, stride 1, sized so that a ``grid x grid`` map remains (at the authors' 225 x 225 input
res5 is 8 x 8 and the window is the released 7 x 7), and flattens each frame in (h, w, c) order:
16 tokens of ``grid * grid * C`` (8192 at full size).

PNR scores every frame with ``Linear(D -> 1)`` (BCE against a one-hot keyframe); OSCC averages the
tokens over time and classifies with ``Linear(D -> 2)`` (CE), as the released ``NO_TEMP_POOL=False``
model does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from egot2.backbones.base import Batch, TSModel
from egot2.backbones.blocks3d import PathwayStage, ResStage, VideoStem, init_resnet_weights
from egot2.backbones.hoi_inputs import check_channels, get_labels, get_tensor
from egot2.errors import UserInputError

VIDEO_LAYOUT = "(B, 3, T, H, W)"


@dataclass(frozen=True)
class ResNet3dConfig:
    """Widths and depths of the "slow_layer5" network.

    Args:
        width: stem channels; the stages' bottleneck widths are ``width * (1, 2, 4, 8)`` and their
            outputs four times that, so res5 has ``32 * width`` channels.
        blocks: residual blocks in res2..res5.
        t_kernel: temporal kernel of conv1 and of every block's first conv.
        grid: side of the spatial grid each frame token keeps.
        dropout: dropout before the task projection.
    """

    width: int = 64
    blocks: tuple[int, int, int, int] = (3, 4, 6, 3)
    t_kernel: int = 3
    grid: int = 2
    dropout: float = 0.5


CONFIGS: dict[str, ResNet3dConfig] = {
    "full": ResNet3dConfig(),
    # The released dropout (0.5) at tiny size too: OSCC's tiny model overfits its 240 synthetic clips with
    # less (val acc 0.59-0.64 at 0.1, 0.71 at 0.5 over 20 epochs; docs/models.md).
    "tiny": ResNet3dConfig(width=4, blocks=(1, 1, 1, 1)),
}


class ResNet3d(nn.Module):
    """Single-pathway 3D ResNet (stages ``s1``..``s5``); spatial stride 32, temporal stride 1.

    Args:
        cfg: widths and depths.
    """

    def __init__(self, cfg: ResNet3dConfig) -> None:
        super().__init__()
        w, k = cfg.width, cfg.t_kernel
        self.s1 = VideoStem([w], [k])
        dims = [w, 4 * w, 8 * w, 16 * w, 32 * w]
        for i, (n, stride) in enumerate(zip(cfg.blocks, (1, 2, 2, 2), strict=True)):
            stage = PathwayStage(dims[i], dims[i + 1], w * 2**i, k)
            self.add_module(f"s{i + 2}", ResStage([stage], n, stride))
        self.out_dim = dims[-1]
        init_resnet_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 3, T, H, W)`` -> res5 ``(B, 32 * width, T, H / 32, W / 32)``."""
        xs = [x]
        for stage in (self.s1, self.s2, self.s3, self.s4, self.s5):
            xs = stage(xs)
        return xs[0]


def grid_tokens(res5: Tensor, grid: int) -> Tensor:
    """Per-frame tokens: a stride-1 average window leaving ``grid x grid`` cells, flattened (h, w, c).

    Args:
        res5: ``(B, C, T, H, W)`` with ``H, W >= grid``.
        grid: cells per side.

    Returns:
        ``(B, T, grid * grid * C)``.
    """
    b, c, t, h, w = res5.shape
    if h < grid or w < grid:
        raise UserInputError(
            f"video too small: res5 is {h}x{w}, the head needs at least {grid}x{grid} (input H, W >= {32 * grid})",
            field="video",
        )
    x = F.avg_pool3d(res5, (1, h - grid + 1, w - grid + 1), stride=1)  # (B, C, T, grid, grid)
    x = x.permute(0, 2, 3, 4, 1)  # (B, T, grid, grid, C)
    return x.reshape(b, t, grid * grid * c)  # (B, T, D)


class TokenHead(nn.Module):
    """Dropout + the task projection (``proj``) on per-frame tokens.

    Args:
        dim: token size.
        num_outputs: outputs of the projection.
        dropout: dropout rate before the projection.
    """

    def __init__(self, dim: int, num_outputs: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(dim, num_outputs)
        nn.init.normal_(self.proj.weight, std=0.01)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.dropout(x))


class SlowLayer5TS(TSModel):
    """Shared body of :class:`PNRModel` and :class:`OSCCModel`: backbone + grid tokens.

    ``stream_dims`` gives the actual token size (``{"tokens": grid * grid * 32 * width}``; 8192 at full
    size, 512 at tiny size).

    Args:
        cfg: widths and depths.
        num_outputs: outputs of the head's projection.
    """

    def __init__(self, cfg: ResNet3dConfig, num_outputs: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = ResNet3d(cfg)
        dim = cfg.grid * cfg.grid * self.backbone.out_dim
        self.head = TokenHead(dim, num_outputs, cfg.dropout)
        self.stream_dims: dict[str, int] = {"tokens": dim}

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        """``{"tokens": (B, T, D)}``, one token per input frame."""
        x = get_tensor(batch, "video", 5, VIDEO_LAYOUT)
        check_channels(x, "video", VIDEO_LAYOUT, 1)
        return {"tokens": grid_tokens(self.backbone(x), self.cfg.grid)}


class PNRModel(SlowLayer5TS):
    """Point-of-no-return keyframe localisation: one score per input frame.

    ``forward`` returns ``{"logits": (B, T)}`` (T = 16); ``loss`` is BCE-with-logits against the
    one-hot keyframe ``labels["label"]`` (B,).

    Args:
        cfg: widths and depths.
    """

    task = "pnr"

    def __init__(self, cfg: ResNet3dConfig) -> None:
        super().__init__(cfg, 1)

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        tokens = self.tokens(batch)["tokens"]  # (B, T, D)
        return {"logits": self.head(tokens).squeeze(-1)}  # (B, T)

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Mean BCE over the T frames against the one-hot keyframe index."""
        logits = outputs["logits"]
        y = get_labels(labels, "label", logits.shape[:1], logits.shape[1])
        return self.spec.compute_loss(outputs, {"label": y})


class OSCCModel(SlowLayer5TS):
    """Object state change classification: tokens averaged over time, then ``Linear(D -> 2)``.

    ``forward`` returns ``{"logits": (B, 2)}``; ``loss`` is CE against ``labels["label"]`` (B,).
    ``tokens`` gives the un-pooled per-frame tokens (the released model built with ``NO_TEMP_POOL``).

    Args:
        cfg: widths and depths.
    """

    task = "oscc"

    def __init__(self, cfg: ResNet3dConfig) -> None:
        super().__init__(cfg, 2)

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        tokens = self.tokens(batch)["tokens"]  # (B, T, D)
        return {"logits": self.head(tokens.mean(dim=1))}  # (B, 2)

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Cross-entropy of the two state-change logits."""
        logits = outputs["logits"]
        y = get_labels(labels, "label", logits.shape[:1], logits.shape[1])
        return self.spec.compute_loss(outputs, {"label": y})


def _config(size: str) -> ResNet3dConfig:
    if size not in CONFIGS:
        raise UserInputError(f"unknown TS size {size!r}; valid: {list(CONFIGS)}", field="size")
    return CONFIGS[size]


def build_pnr(size: str = "tiny") -> PNRModel:
    """The PNR TS model at ``size`` (``"full"``: 32.19M parameters, as released)."""
    return PNRModel(_config(size))


def build_oscc(size: str = "tiny") -> OSCCModel:
    """The OSCC TS model at ``size`` (``"full"``: 32.20M parameters, as released)."""
    return OSCCModel(_config(size))
