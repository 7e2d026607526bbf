"""LAM and TTM: the Ego4D social baselines (per-frame ResNet-18 face encoder + 2-layer BiLSTM).

* LAM (looking at me): 7 face crops -> ``video_encoder`` per frame (256-d tokens) -> BiLSTM ->
  the middle step (index ``D // 2`` = 3) -> ``head`` (Linear 512->128, Linear 128->2, no activation).
* TTM (talking to me): face crops of a segment -> the same visual branch, last LSTM step, concatenated
  with the ResNetSE audio embedding (512) -> ``head`` (Linear 1024->128, Linear 128->2).

Translator tokens are the per-frame encoder outputs (``frames``, before the LSTM); TTM also exposes its
audio embedding as a one-token ``audio`` stream. Class weights of the CE losses are the baselines':
TTM [0.266, 0.734] (paper), LAM [0.136, 0.864] (Ego4D LAM baseline ``common/config.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.backbones.audio import ResNetSEEncoder
from egot2.backbones.base import Batch, TSModel
from egot2.backbones.resnet2d import FrameResNet
from egot2.errors import UserInputError

LAM_CLASS_WEIGHTS = (0.136, 0.864)
TTM_CLASS_WEIGHTS = (0.266, 0.734)


@dataclass(frozen=True)
class SocialSize:
    """Widths of one size of the LAM/TTM family.

    Args:
        widths: ResNet-18 stage channels.
        hidden_dim: ``fc1`` width.
        token_dim: per-frame token (``fc2`` output, LSTM input and hidden size).
        head_dim: hidden width of the two-layer head.
        audio_widths: ResNetSE stage channels (TTM).
        audio_dim: audio embedding size (TTM).
    """

    widths: tuple[int, int, int, int]
    hidden_dim: int
    token_dim: int
    head_dim: int
    audio_widths: tuple[int, int, int, int]
    audio_dim: int


SIZES: dict[str, SocialSize] = {
    "full": SocialSize((64, 128, 256, 512), 1000, 256, 128, (32, 64, 128, 256), 512),
    "tiny": SocialSize((8, 16, 32, 64), 64, 32, 16, (4, 8, 16, 32), 32),
}


def _size(size: str) -> SocialSize:
    if size not in SIZES:
        raise UserInputError(f"unknown size {size!r}; valid: {list(SIZES)}", field="size")
    return SIZES[size]


def _require(batch: Batch, key: str, ndim: int, task: str) -> Tensor:
    if key not in batch:
        raise UserInputError(f"{task} batch needs {key!r}; got keys {sorted(batch)}", field=key)
    x = batch[key]
    if x.ndim != ndim:
        raise UserInputError(f"{task} {key!r} must have {ndim} dims, got shape {tuple(x.shape)}", field=key)
    return x


class _FaceLSTM(TSModel):
    """Shared part of LAM and TTM: per-frame encoder, BiLSTM, CE loss with class weights."""

    def __init__(self, cfg: SocialSize, class_weights: tuple[float, float], head_in: int) -> None:
        super().__init__()
        self.video_encoder = FrameResNet(cfg.widths, cfg.hidden_dim, cfg.token_dim)
        self.lstm = nn.LSTM(cfg.token_dim, cfg.token_dim, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Sequential(nn.Linear(head_in, cfg.head_dim), nn.Linear(cfg.head_dim, 2))
        self.register_buffer("class_weights", torch.tensor(class_weights), persistent=False)

    def frame_tokens(self, video: Tensor) -> Tensor:
        """``(B, D, 3, H, W)`` face crops to ``(B, D, token_dim)``."""
        b, d = video.shape[:2]
        x = self.video_encoder(video.reshape(b * d, *video.shape[2:]))  # (B*D, token_dim)
        return x.view(b, d, -1)

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Class-weighted cross-entropy of ``outputs["logits"]`` (B, 2) against ``labels["label"]`` (B,)."""
        return F.cross_entropy(outputs["logits"], labels["label"].long(), weight=self.class_weights)


class LAMModel(_FaceLSTM):
    """Looking-at-me TS model. Input ``video`` (B, D, 3, H, W), D >= 1 (7 in the benchmark).

    Args:
        cfg: widths of the size.
    """

    task = "lam"

    def __init__(self, cfg: SocialSize) -> None:
        super().__init__(cfg, LAM_CLASS_WEIGHTS, 2 * cfg.token_dim)
        self.stream_dims = {"frames": cfg.token_dim}

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        return {"frames": self.frame_tokens(_require(batch, "video", 5, self.task))}

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        frames = self.frame_tokens(_require(batch, "video", 5, self.task))
        out, _ = self.lstm(frames)  # (B, D, 2 * token_dim)
        return {"logits": self.head(out[:, frames.shape[1] // 2])}


class TTMModel(_FaceLSTM):
    """Talking-to-me TS model. Inputs ``video`` (B, D, 3, H, W) and ``audio`` (B, L) at 16 kHz.

    Args:
        cfg: widths of the size.
    """

    task = "ttm"

    def __init__(self, cfg: SocialSize) -> None:
        super().__init__(cfg, TTM_CLASS_WEIGHTS, 2 * cfg.token_dim + cfg.audio_dim)
        self.audio_encoder = ResNetSEEncoder(cfg.audio_widths, cfg.audio_dim)
        self.stream_dims = {"frames": cfg.token_dim, "audio": cfg.audio_dim}

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        """``frames`` always; ``audio`` (B, 1, audio_dim) when the batch has audio."""
        out = {"frames": self.frame_tokens(_require(batch, "video", 5, self.task))}
        if "audio" in batch:
            out["audio"] = self.audio_encoder(_require(batch, "audio", 2, self.task)).unsqueeze(1)
        return out

    def branches(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """The last BiLSTM step (B, 2 * token_dim) and the audio embedding (B, audio_dim)."""
        frames = self.frame_tokens(_require(batch, "video", 5, self.task))
        out, _ = self.lstm(frames)  # (B, D, 2 * token_dim)
        return out[:, -1], self.audio_encoder(_require(batch, "audio", 2, self.task))

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        lstm_last, audio = self.branches(batch)
        return {"logits": self.head(torch.cat([lstm_last, audio], dim=1))}


def build_lam(size: str = "full") -> LAMModel:
    """The LAM TS model at ``size`` (``"full"``: 14.6M parameters; ``"tiny"``)."""
    return LAMModel(_size(size))


def build_ttm(size: str = "full") -> TTMModel:
    """The TTM TS model at ``size`` (``"full"``: 20.2M parameters; ``"tiny"``)."""
    return TTMModel(_size(size))
