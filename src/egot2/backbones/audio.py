"""Audio encoders of the human-human TS models: a log-mel front-end and two SE-ResNets.

* :class:`LogMelSpectrogram`: pre-emphasis (0.97), power STFT (n_fft 512, window 400, hop 160,
  periodic Hamming, centred with reflect padding), an HTK mel filterbank (64 bands, 0-8000 Hz, no
  normalisation) built here, then ``log(x + 1e-6)``. Its constants are non-persistent buffers.
* :class:`ResNetSEEncoder` (TTM): log-mel, InstanceNorm, SE-ResNet (4 stages of 2 blocks),
  attentive statistics pooling over time, Linear to a 512-d clip embedding.
* :class:`TalkNetAudioEncoder` (ASD): SE-ResNet (blocks 3, 4, 6, 3) over MFCCs, averaged over the
  coefficient axis: one 128-d vector per video frame.

Parts are named as in the authors' modules (``conv1``, ``bn1``, ``layer{i}.{j}.se.fc.0``,
``attention.0`` ...), so their state dicts map by key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def hz_to_mel(hz: Tensor) -> Tensor:
    """HTK mel scale."""
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: Tensor) -> Tensor:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None) -> Tensor:
    """Triangular HTK mel filters without area normalisation, ``(n_freqs, n_mels)`` float32.

    Band ``m`` rises linearly from mel point ``m`` to ``m + 1`` and falls to ``m + 2``, the
    ``n_mels + 2`` points spaced evenly in mel between ``f_min`` and ``f_max`` (default Nyquist).
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    freqs = torch.linspace(0.0, sample_rate // 2, n_freqs, dtype=torch.float64)
    lo, hi = (2595.0 * math.log10(1.0 + f / 700.0) for f in (f_min, f_max))  # HTK mel of the edges
    points = mel_to_hz(torch.linspace(lo, hi, n_mels + 2, dtype=torch.float64))  # (M+2,)
    widths = points[1:] - points[:-1]  # (M+1,)
    offsets = points.unsqueeze(0) - freqs.unsqueeze(1)  # (F, M+2)
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    return torch.clamp(torch.minimum(rising, falling), min=0.0).to(torch.float32)


class LogMelSpectrogram(nn.Module):
    """Waveform ``(B, L)`` at ``sample_rate`` to log-mel ``(B, n_mels, 1 + L // hop)``.

    Args:
        sample_rate: Hz.
        n_fft: FFT size.
        win_length: window length (a periodic Hamming window, zero-padded to ``n_fft``).
        hop_length: hop.
        n_mels: mel bands.
        preemphasis: coefficient of ``y[t] = x[t] - c x[t-1]`` (reflect-padded at the start).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        n_mels: int = 64,
        preemphasis: float = 0.97,
    ) -> None:
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.register_buffer("flipped_filter", torch.tensor([[[-preemphasis, 1.0]]]), persistent=False)
        self.register_buffer("window", torch.hamming_window(win_length, periodic=True), persistent=False)
        self.register_buffer("mel_fb", mel_filterbank(n_fft // 2 + 1, n_mels, sample_rate), persistent=False)

    def forward(self, wav: Tensor) -> Tensor:
        x = F.pad(wav.unsqueeze(1), (1, 0), mode="reflect")  # (B, 1, L + 1)
        x = F.conv1d(x, self.flipped_filter).squeeze(1)  # (B, L)
        spec = torch.stft(
            x,
            self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        power = spec.abs().pow(2.0)  # (B, F, T)
        mel = torch.matmul(power.transpose(1, 2), self.mel_fb).transpose(1, 2)  # (B, M, T)
        return torch.log(mel + 1e-6)


class SELayer(nn.Module):
    """Squeeze-and-excitation: channel gates from the spatial mean (``fc``: Linear-ReLU-Linear-Sigmoid).

    Args:
        channels: channels gated.
        reduction: bottleneck ratio of ``fc``.
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x: Tensor) -> Tensor:
        gates = self.fc(x.mean(dim=(2, 3)))  # (B, C)
        return x * gates[:, :, None, None]


class SEBasicBlock(nn.Module):
    """conv3x3-ReLU-BN-conv3x3-BN-SE plus the (projected) input, then ReLU (ResNetSE's order).

    Args:
        dim_in: input channels.
        dim_out: output channels.
        stride: stride of the first conv and the 1x1 projection.
        reduction: SE bottleneck ratio.
    """

    def __init__(self, dim_in: int, dim_out: int, stride: int = 1, reduction: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(dim_out)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim_out)
        self.se = SELayer(dim_out, reduction)
        self.downsample: nn.Module | None = None
        if stride != 1 or dim_in != dim_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(dim_in, dim_out, 1, stride=stride, bias=False), nn.BatchNorm2d(dim_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(F.relu(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class SEResNetTrunk(nn.Module):
    """Stem ``conv1``/``bn1`` and four stages ``layer1..4`` of :class:`SEBasicBlock`.

    Args:
        widths: channels of the four stages; the stem outputs ``widths[0]``.
        blocks: blocks per stage.
        strides: stride of each stage's first block.
        stem_kernel: stem kernel size; stem_stride: its stride; stem_bias: whether it has a bias.
        relu_before_bn: stem order conv-ReLU-BN (ResNetSE) instead of conv-BN-ReLU (TalkNet).
    """

    def __init__(
        self,
        widths: Sequence[int],
        blocks: Sequence[int],
        strides: Sequence[int | tuple[int, int]],
        *,
        stem_kernel: int,
        stem_stride: int | tuple[int, int],
        stem_bias: bool,
        relu_before_bn: bool,
    ) -> None:
        super().__init__()
        self.relu_before_bn = relu_before_bn
        self.conv1 = nn.Conv2d(1, widths[0], stem_kernel, stride=stem_stride, padding=stem_kernel // 2, bias=stem_bias)
        self.bn1 = nn.BatchNorm2d(widths[0])
        dim_in = widths[0]
        for i, (width, n, stride) in enumerate(zip(widths, blocks, strides, strict=True)):
            layer = [SEBasicBlock(dim_in if j == 0 else width, width, stride if j == 0 else 1) for j in range(n)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layer))
            dim_in = width
        self.out_dim = dim_in

    def trunk(self, x: Tensor) -> Tensor:
        """``(B, 1, F, T)`` to ``(B, C, F', T')``."""
        x = self.conv1(x)
        x = self.bn1(F.relu(x)) if self.relu_before_bn else F.relu(self.bn1(x))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class ResNetSEEncoder(SEResNetTrunk):
    """TTM's audio branch: waveform ``(B, L)`` at 16 kHz to a clip embedding ``(B, out_dim)``.

    Log-mel, InstanceNorm over time per band, SE-ResNet, attentive statistics pooling (a softmax over
    time per channel-frequency row; weighted mean and standard deviation), then ``fc``.

    Args:
        widths: stage channels (32, 64, 128, 256 at full size).
        out_dim: embedding size (512).
        n_mels: mel bands (64).
        attention_dim: bottleneck of the attention (128).
        blocks: blocks per stage (2 each).
    """

    def __init__(
        self,
        widths: Sequence[int],
        out_dim: int,
        n_mels: int = 64,
        attention_dim: int = 128,
        blocks: Sequence[int] = (2, 2, 2, 2),
    ) -> None:
        super().__init__(
            widths, blocks, (1, 2, 2, 2), stem_kernel=3, stem_stride=1, stem_bias=True, relu_before_bn=True
        )
        self.torchfb = LogMelSpectrogram(n_mels=n_mels)
        self.instancenorm = nn.InstanceNorm1d(n_mels)
        rows = widths[-1] * math.ceil(n_mels / 8)  # channels x mel rows after three stride-2 stages
        self.attention = nn.Sequential(
            nn.Conv1d(rows, attention_dim, 1),
            nn.ReLU(),
            nn.BatchNorm1d(attention_dim),
            nn.Conv1d(attention_dim, rows, 1),
            nn.Softmax(dim=2),
        )
        self.fc = nn.Linear(2 * rows, out_dim)
        self.out_dim = out_dim

    def forward(self, wav: Tensor) -> Tensor:
        x = self.instancenorm(self.torchfb(wav)).unsqueeze(1)  # (B, 1, M, T)
        x = self.trunk(x)  # (B, C, M/8, T')
        x = x.reshape(x.shape[0], -1, x.shape[-1])  # (B, C*M/8, T')
        w = self.attention(x)
        mu = (x * w).sum(dim=2)
        sigma = ((x * x * w).sum(dim=2) - mu * mu).clamp(min=1e-5).sqrt()
        return self.fc(torch.cat([mu, sigma], dim=1))  # (B, out_dim)


class TalkNetAudioEncoder(SEResNetTrunk):
    """ASD's audio encoder: MFCC ``(B, 4T, n_mfcc)`` to one vector per video frame ``(B, T, out_dim)``.

    Args:
        widths: stage channels (16, 32, 64, 128 at full size); ``out_dim`` is ``widths[-1]``.
        blocks: blocks per stage (3, 4, 6, 3).
    """

    def __init__(self, widths: Sequence[int], blocks: Sequence[int] = (3, 4, 6, 3)) -> None:
        super().__init__(
            widths,
            blocks,
            (1, 2, 2, 1),
            stem_kernel=7,
            stem_stride=(2, 1),
            stem_bias=False,
            relu_before_bn=False,
        )

    def forward(self, mfcc: Tensor) -> Tensor:
        x = mfcc.unsqueeze(1).transpose(2, 3)  # (B, 1, n_mfcc, 4T)
        x = self.trunk(x)  # (B, C, F', T)
        return x.mean(dim=2).transpose(1, 2)  # (B, T, C)
