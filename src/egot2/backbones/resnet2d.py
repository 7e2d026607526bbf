"""2D ResNets of the human-human TS models.

* :class:`FrameResNet`: the per-frame face encoder of LAM and TTM, a ResNet-18 (BasicBlock [2,2,2,2])
  whose classifier is ``fc1`` (512 -> 1000) + ReLU + ``fc2`` (1000 -> 256). Parts are named as in
  torchvision's ResNet (``conv1``, ``bn1``, ``layer{i}.{j}.conv1`` ...), as the Ego4D baselines' are.
* :class:`TalkNetResNet`: the 2D trunk of TalkNet's visual front-end, four :class:`TalkNetResNetLayer`
  stages of two pre-activation-style sub-blocks (``conv1a/bn1a/conv2a/outbna``, ``conv1b/...``).

Widths are arguments, so one definition serves the ``full`` and ``tiny`` sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the (projected) identity, then ReLU.

    Args:
        dim_in: input channels.
        dim_out: output channels.
        stride: stride of the first convolution (and of the 1x1 projection when there is one).
    """

    def __init__(self, dim_in: int, dim_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(dim_out)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or dim_in != dim_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(dim_in, dim_out, 1, stride=stride, bias=False), nn.BatchNorm2d(dim_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class FrameResNet(nn.Module):
    """ResNet-18 face encoder: ``(N, 3, H, W)`` images to ``(N, out_dim)`` features.

    Args:
        widths: channels of the four stages (64, 128, 256, 512 at full size); the stem has widths[0].
        hidden_dim: width of ``fc1`` (1000 at full size, ImageNet's class count).
        out_dim: width of ``fc2``, the per-frame token (256 at full size).
        blocks: BasicBlocks per stage.
    """

    def __init__(
        self, widths: Sequence[int], hidden_dim: int, out_dim: int, blocks: Sequence[int] = (2, 2, 2, 2)
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        dim_in = widths[0]
        for i, (width, n) in enumerate(zip(widths, blocks, strict=True)):
            stride = 1 if i == 0 else 2
            layer = [BasicBlock(dim_in if j == 0 else width, width, stride if j == 0 else 1) for j in range(n)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layer))
            dim_in = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(dim_in, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x).flatten(1)  # (N, C)
        return self.fc2(F.relu(self.fc1(x)))


def _talknet_bn(dim: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(dim, momentum=0.01, eps=0.001)


class TalkNetResNetLayer(nn.Module):
    """One stage of TalkNet's visual ResNet: two sub-blocks (``a`` then ``b``).

    Sub-block ``a``: conv1a-BN-ReLU-conv2a plus the input (through the 1x1 ``downsample`` when strided),
    then ``outbna``-ReLU; sub-block ``b``: the same with the pre-BN sum of ``a`` as its residual.

    Args:
        dim_in: input channels.
        dim_out: output channels.
        stride: stride of ``conv1a`` and ``downsample``.
    """

    def __init__(self, dim_in: int, dim_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv1a = nn.Conv2d(dim_in, dim_out, 3, stride=stride, padding=1, bias=False)
        self.bn1a = _talknet_bn(dim_out)
        self.conv2a = nn.Conv2d(dim_out, dim_out, 3, padding=1, bias=False)
        self.downsample = nn.Conv2d(dim_in, dim_out, 1, stride=stride, bias=False)
        self.outbna = _talknet_bn(dim_out)
        self.conv1b = nn.Conv2d(dim_out, dim_out, 3, padding=1, bias=False)
        self.bn1b = _talknet_bn(dim_out)
        self.conv2b = nn.Conv2d(dim_out, dim_out, 3, padding=1, bias=False)
        self.outbnb = _talknet_bn(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.stride == 1 else self.downsample(x)
        a = self.conv2a(F.relu(self.bn1a(self.conv1a(x)))) + residual
        b = F.relu(self.outbna(a))
        b = self.conv2b(F.relu(self.bn1b(self.conv1b(b)))) + a
        return F.relu(self.outbnb(b))


class TalkNetResNet(nn.Module):
    """TalkNet's visual 2D trunk: ``(N, C0, H, W)`` to ``(N, widths[-1])`` (average over space).

    Args:
        widths: output channels of the four stages (64, 128, 256, 512 at full size); the input has
            ``widths[0]`` channels.
    """

    def __init__(self, widths: Sequence[int]) -> None:
        super().__init__()
        dims_in = [widths[0], *widths[:-1]]
        for i, (dim_in, dim_out) in enumerate(zip(dims_in, widths, strict=True)):
            self.add_module(f"layer{i + 1}", TalkNetResNetLayer(dim_in, dim_out, 1 if i == 0 else 2))
        self.out_dim = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        # TalkNet pools with AvgPool2d(4) over the 4x4 map of a 112x112 face; adaptive = the same there.
        return x.mean(dim=(2, 3))  # (N, C)
