"""3D ResNet building blocks shared by the I3D ("slow_layer5") and SlowFast families.

Every block works on a list of pathways (one tensor ``(B, C, T, H, W)`` per pathway) and names its
parts as the authors' SlowFast code does (``pathway{p}_stem.conv``, ``pathway{p}_res{i}.branch2.a`` ...),
so the released state dicts map onto these modules by key. BatchNorm uses the PyTorch defaults
(eps 1e-5, momentum 0.1), as the released models did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn


class BasicStem(nn.Module):
    """Conv ``(t, 7, 7)`` stride ``(1, 2, 2)`` + BN + ReLU + max-pool ``(1, 3, 3)`` stride ``(1, 2, 2)``.

    Args:
        dim_in: input channels (3 for RGB).
        dim_out: output channels.
        t_kernel: temporal kernel of the convolution (padded to keep T).
    """

    def __init__(self, dim_in: int, dim_out: int, t_kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            dim_in, dim_out, (t_kernel, 7, 7), stride=(1, 2, 2), padding=(t_kernel // 2, 3, 3), bias=False
        )
        self.bn = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class VideoStem(nn.Module):
    """One :class:`BasicStem` per pathway, registered as ``pathway{p}_stem``.

    Args:
        dims_out: output channels per pathway.
        t_kernels: temporal kernel per pathway.
        dim_in: input channels (the same for every pathway).
    """

    def __init__(self, dims_out: Sequence[int], t_kernels: Sequence[int], dim_in: int = 3) -> None:
        super().__init__()
        self.num_pathways = len(dims_out)
        for p, (d, k) in enumerate(zip(dims_out, t_kernels, strict=True)):
            self.add_module(f"pathway{p}_stem", BasicStem(dim_in, d, k))

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        return [getattr(self, f"pathway{p}_stem")(x) for p, x in enumerate(xs)]


class BottleneckTransform(nn.Module):
    """``a``: ``(t, 1, 1)`` conv, ``b``: ``(1, 3, 3)`` conv carrying the spatial stride, ``c``: 1x1x1 conv.

    Args:
        dim_in: input channels.
        dim_out: output channels.
        dim_inner: bottleneck channels.
        t_kernel: temporal kernel of ``a``.
        stride: spatial stride of ``b``.
    """

    def __init__(self, dim_in: int, dim_out: int, dim_inner: int, t_kernel: int, stride: int) -> None:
        super().__init__()
        self.a = nn.Conv3d(dim_in, dim_inner, (t_kernel, 1, 1), padding=(t_kernel // 2, 0, 0), bias=False)
        self.a_bn = nn.BatchNorm3d(dim_inner)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = nn.Conv3d(
            dim_inner, dim_inner, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
        )
        self.b_bn = nn.BatchNorm3d(dim_inner)
        self.b_relu = nn.ReLU(inplace=True)
        self.c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.c_bn = nn.BatchNorm3d(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class ResBlock(nn.Module):
    """Bottleneck residual block; a strided 1x1x1 projection (``branch1``) when the shape changes.

    Args:
        dim_in: input channels.
        dim_out: output channels.
        dim_inner: bottleneck channels.
        t_kernel: temporal kernel of the bottleneck's first conv.
        stride: spatial stride.
    """

    def __init__(self, dim_in: int, dim_out: int, dim_inner: int, t_kernel: int, stride: int) -> None:
        super().__init__()
        if dim_in != dim_out or stride != 1:
            self.branch1 = nn.Conv3d(dim_in, dim_out, 1, stride=(1, stride, stride), bias=False)
            self.branch1_bn = nn.BatchNorm3d(dim_out)
        self.branch2 = BottleneckTransform(dim_in, dim_out, dim_inner, t_kernel, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = self.branch1_bn(self.branch1(x)) if hasattr(self, "branch1") else x
        return self.relu(shortcut + self.branch2(x))


@dataclass(frozen=True)
class PathwayStage:
    """Shape of one pathway inside a :class:`ResStage`.

    Args:
        dim_in: input channels.
        dim_out: output channels.
        dim_inner: bottleneck channels.
        t_kernel: temporal kernel of every block's first conv.
    """

    dim_in: int
    dim_out: int
    dim_inner: int
    t_kernel: int


class ResStage(nn.Module):
    """``num_blocks`` residual blocks per pathway, registered pathway-major as ``pathway{p}_res{i}``.

    The first block of each pathway carries the spatial ``stride``.

    Args:
        pathways: the shape of each pathway.
        num_blocks: blocks per pathway.
        stride: spatial stride of the first block.
    """

    def __init__(self, pathways: Sequence[PathwayStage], num_blocks: int, stride: int) -> None:
        super().__init__()
        self.num_pathways = len(pathways)
        self.num_blocks = num_blocks
        for p, s in enumerate(pathways):
            for i in range(num_blocks):
                block = ResBlock(
                    s.dim_in if i == 0 else s.dim_out,
                    s.dim_out,
                    s.dim_inner,
                    s.t_kernel,
                    stride if i == 0 else 1,
                )
                self.add_module(f"pathway{p}_res{i}", block)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        out = []
        for p, x in enumerate(xs):
            for i in range(self.num_blocks):
                x = getattr(self, f"pathway{p}_res{i}")(x)
            out.append(x)
        return out


def init_resnet_weights(module: nn.Module, zero_init_final_bn: bool = True, fc_std: float = 0.01) -> None:
    """The authors' initialisation: MSRA (fan-out) convs, BN 1/0, zero ``c_bn`` gamma, N(0, 0.01) linears.

    Args:
        module: the network to initialise in place.
        zero_init_final_bn: start every residual branch at zero (its last BN gamma is 0).
        fc_std: standard deviation of the linear layers' weights.
    """
    for name, m in module.named_modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm3d):
            final = zero_init_final_bn and name.endswith("branch2.c_bn")
            nn.init.constant_(m.weight, 0.0 if final else 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=fc_std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
