"""ASD: a TalkNet audio-visual active-speaker model (per-frame speaking / not speaking).

Pipeline for grey faces ``video`` (B, T, H, W) in 0-255 and MFCC ``audio`` (B, 4T, 13):

* visual: ``(x / 255 - 0.4161) / 0.1688`` -> Conv3d 5x7x7 stem + 2D ResNet per frame (512) ->
  ``visual_tcn`` (5 residual depthwise-separable temporal convs) -> ``visual_conv1d`` (512 -> 256 -> 128);
* audio: SE-ResNet over the MFCCs -> 128 per video frame;
* ``cross_a2v`` / ``cross_v2a``: each stream attends to the other (d 128, 8 heads);
* ``self_av``: self-attention over the concatenation (d 256, 8 heads): the 256-d ``frames`` tokens.

Heads (``heads.av`` on 256-d, auxiliary ``heads.audio`` / ``heads.visual`` on the cross-attended 128-d
streams) and the loss ``CE_av + 0.4 (CE_audio + CE_visual)`` with class weights [1, 4] follow the
Ego4D TalkNet baseline. The ``visual`` token stream is the video-only pathway (``visual_conv1d``
output, before any audio is mixed in). Unlike the original, the 3D stem convolves each clip on its own
(the original ran it over the whole batch concatenated in time); for one clip both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.backbones.audio import TalkNetAudioEncoder
from egot2.backbones.base import Batch, TSModel
from egot2.backbones.resnet2d import TalkNetResNet
from egot2.errors import UserInputError

GREY_MEAN, GREY_STD = 0.4161, 0.1688
AUX_WEIGHT = 0.4
IGNORE_INDEX = -100


@dataclass(frozen=True)
class TalkNetSize:
    """Widths of one size of the ASD family.

    Args:
        visual_widths: stage channels of the visual ResNet (the 3D stem outputs the first).
        tcn_blocks: residual depthwise-separable blocks of the visual TCN.
        visual_mid: hidden channels of ``visual_conv1d``.
        embed_dim: per-stream embedding (visual ``visual_conv1d`` output = audio encoder output).
        audio_widths: stage channels of the audio SE-ResNet (the last equals ``embed_dim``).
        audio_blocks: blocks per audio stage.
        heads: attention heads.
    """

    visual_widths: tuple[int, int, int, int]
    tcn_blocks: int
    visual_mid: int
    embed_dim: int
    audio_widths: tuple[int, int, int, int]
    audio_blocks: tuple[int, int, int, int]
    heads: int


SIZES: dict[str, TalkNetSize] = {
    "full": TalkNetSize((64, 128, 256, 512), 5, 256, 128, (16, 32, 64, 128), (3, 4, 6, 3), 8),
    "tiny": TalkNetSize((8, 16, 32, 64), 2, 32, 16, (4, 8, 8, 16), (1, 1, 1, 1), 2),
}


class VisualFrontend(nn.Module):
    """Grey faces ``(B, T, H, W)`` (already normalised) to per-frame features ``(B, T, C)``.

    Args:
        widths: the 2D ResNet's stage channels.
    """

    def __init__(self, widths: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.frontend3D = nn.Sequential(
            nn.Conv3d(1, widths[0], (5, 7, 7), stride=(1, 2, 2), padding=(2, 3, 3), bias=False),
            nn.BatchNorm3d(widths[0], momentum=0.01, eps=0.001),
            nn.ReLU(),
            nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
        )
        self.resnet = TalkNetResNet(widths)
        self.out_dim = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        x = self.frontend3D(x.unsqueeze(1))  # (B, C, T, H', W')
        x = x.transpose(1, 2).reshape(b * t, *x.shape[1:2], *x.shape[3:])  # (B*T, C, H', W')
        return self.resnet(x).view(b, t, -1)  # (B, T, C)


class GlobalLayerNorm(nn.Module):
    """Normalise ``(B, C, T)`` over channels and time together, then per-channel ``gamma``/``beta``.

    Args:
        channels: C.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, channels, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=(1, 2), keepdim=True)
        var = (x - mean).pow(2).mean(dim=(1, 2), keepdim=True)
        return self.gamma * (x - mean) / torch.sqrt(var + 1e-8) + self.beta


class DSConv1d(nn.Module):
    """Residual ReLU-BN-depthwise conv3-PReLU-gLN-pointwise conv on ``(B, C, T)``.

    Args:
        channels: C.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.BatchNorm1d(channels),
            nn.Conv1d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.PReLU(),
            GlobalLayerNorm(channels),
            nn.Conv1d(channels, channels, 1, bias=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x) + x


class VisualTCN(nn.Module):
    """A stack of :class:`DSConv1d` blocks (``net``).

    Args:
        channels: C.
        blocks: number of blocks.
    """

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__()
        self.net = nn.Sequential(*[DSConv1d(channels) for _ in range(blocks)])

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class VisualConv1D(nn.Module):
    """Conv1d k5 - BN - ReLU - Conv1d k1 on ``(B, C, T)`` (``net``).

    Args:
        dim_in: input channels; dim_mid: hidden channels; dim_out: output channels.
    """

    def __init__(self, dim_in: int, dim_mid: int, dim_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(dim_in, dim_mid, 5, padding=2),
            nn.BatchNorm1d(dim_mid),
            nn.ReLU(),
            nn.Conv1d(dim_mid, dim_out, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class AttentionLayer(nn.Module):
    """Post-LN attention block: ``src`` attends with queries from ``tar``; residual on ``src``.

    ``norm1(src + attn(q=tar, k=v=src))`` then ``norm2(x + linear2(relu(linear1(x))))``, on
    ``(B, T, d)`` tensors.

    Args:
        dim: d_model.
        heads: attention heads.
        dropout: dropout of attention weights and residual branches.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(dim, 4 * dim)
        self.linear2 = nn.Linear(4 * dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, src: Tensor, tar: Tensor) -> Tensor:
        attended = self.self_attn(tar, src, src, need_weights=False)[0]
        x = self.norm1(src + self.dropout1(attended))
        ff = self.linear2(self.dropout(F.relu(self.linear1(x))))
        return self.norm2(x + self.dropout2(ff))


class ASDModel(TSModel):
    """The TalkNet ASD TS model.

    Inputs: ``video`` (B, T, H, W) grey faces in 0-255 (112x112 at full size) and ``audio`` (B, 4T, 13)
    MFCC. Outputs per-frame logits ``(B, T, 2)``: ``logits`` (audio-visual), ``audio_logits`` and
    ``visual_logits`` (auxiliary heads).

    Args:
        cfg: widths of the size.
    """

    task = "asd"

    def __init__(self, cfg: TalkNetSize) -> None:
        super().__init__()
        d = cfg.embed_dim
        if cfg.audio_widths[-1] != d:
            raise UserInputError("the audio encoder's last width must equal embed_dim", field="audio_widths")
        self.visual_frontend = VisualFrontend(cfg.visual_widths)
        self.visual_tcn = VisualTCN(cfg.visual_widths[-1], cfg.tcn_blocks)
        self.visual_conv1d = VisualConv1D(cfg.visual_widths[-1], cfg.visual_mid, d)
        self.audio_encoder = TalkNetAudioEncoder(cfg.audio_widths, cfg.audio_blocks)
        self.cross_a2v = AttentionLayer(d, cfg.heads)
        self.cross_v2a = AttentionLayer(d, cfg.heads)
        self.self_av = AttentionLayer(2 * d, cfg.heads)
        self.heads = nn.ModuleDict({"av": nn.Linear(2 * d, 2), "audio": nn.Linear(d, 2), "visual": nn.Linear(d, 2)})
        self.register_buffer("class_weights", torch.tensor([1.0, 4.0]), persistent=False)
        self.stream_dims = {"frames": 2 * d, "visual": d}

    def visual_embedding(self, video: Tensor) -> Tensor:
        """The video-only pathway: ``(B, T, H, W)`` in 0-255 to ``(B, T, embed_dim)``."""
        x = self.visual_frontend((video / 255.0 - GREY_MEAN) / GREY_STD)  # (B, T, C)
        x = self.visual_conv1d(self.visual_tcn(x.transpose(1, 2)))  # (B, d, T)
        return x.transpose(1, 2)

    def _inputs(self, batch: Batch, need_audio: bool) -> tuple[Tensor, Tensor | None]:
        if "video" not in batch or batch["video"].ndim != 4:
            got = tuple(batch["video"].shape) if "video" in batch else sorted(batch)
            raise UserInputError(f"asd needs 'video' (B, T, H, W); got {got}", field="video")
        video = batch["video"]
        if "audio" not in batch:
            if need_audio:
                raise UserInputError(f"asd needs 'audio' (B, 4T, 13); got keys {sorted(batch)}", field="audio")
            return video, None
        audio = batch["audio"]
        if audio.ndim != 3 or audio.shape[1] != 4 * video.shape[1]:
            raise UserInputError(
                f"asd 'audio' must be (B, 4T, n_mfcc) with T = {video.shape[1]} video frames; "
                f"got {tuple(audio.shape)}",
                field="audio",
            )
        return video, audio

    def streams(self, batch: Batch) -> dict[str, Tensor]:
        """Every intermediate stream: ``visual``, ``audio`` (frontends), ``a2v``, ``v2a``, ``frames``."""
        video, audio = self._inputs(batch, need_audio=True)
        assert audio is not None
        visual = self.visual_embedding(video)
        audio_emb = self.audio_encoder(audio)  # (B, T, d)
        a2v = self.cross_a2v(audio_emb, visual)
        v2a = self.cross_v2a(visual, audio_emb)
        av = torch.cat([a2v, v2a], dim=2)  # (B, T, 2d)
        frames = self.self_av(av, av)
        return {"visual": visual, "audio": audio_emb, "a2v": a2v, "v2a": v2a, "frames": frames}

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        """``frames`` (B, T, 2d) and ``visual`` (B, T, d); only ``visual`` when the batch has no audio."""
        video, audio = self._inputs(batch, need_audio=False)
        if audio is None:
            return {"visual": self.visual_embedding(video)}
        s = self.streams(batch)
        return {"frames": s["frames"], "visual": s["visual"]}

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        s = self.streams(batch)
        return {
            "logits": self.heads["av"](s["frames"]),
            "audio_logits": self.heads["audio"](s["a2v"]),
            "visual_logits": self.heads["visual"](s["v2a"]),
        }

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Per-frame weighted CE of the AV head plus 0.4 x each auxiliary head; label -100 = padding."""
        target = labels["label"].long().reshape(-1)  # (B*T,)

        def ce(logits: Tensor) -> Tensor:
            return F.cross_entropy(
                logits.reshape(-1, 2), target, weight=self.class_weights, ignore_index=IGNORE_INDEX
            )

        aux = ce(outputs["audio_logits"]) + ce(outputs["visual_logits"])
        return ce(outputs["logits"]) + AUX_WEIGHT * aux


def build_asd(size: str = "full") -> ASDModel:
    """The ASD (TalkNet) TS model at ``size`` (``"full"``: 15.7M parameters; ``"tiny"``)."""
    if size not in SIZES:
        raise UserInputError(f"unknown size {size!r}; valid: {list(SIZES)}", field="size")
    return ASDModel(SIZES[size])
