"""Per-task frame transforms: resize / crop / normalise whole frames, and face crops from track boxes.

Two profiles: ``ego4d`` (the baselines' input sizes, REFERENCE section 3) and ``synth`` (the same
normalisation at the synthetic world's small sizes). :func:`profile_for_root` picks ``synth`` for a
folder written by ``egot2 synth`` (it holds ``world.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from egot2.errors import UserInputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)


@dataclass(frozen=True)
class FrameTransform:
    """How one task turns decoded uint8 frames (or face crops) into model input.

    Args:
        size: output side (square).
        short_side: resize the short side to this and centre-crop ``size`` (None: resize the whole
            frame to ``size`` x ``size``; faces are always resized whole).
        scale: multiply pixel values (0-255) by this (1/255 for [0, 1]).
        mean, std: per-channel normalisation after scaling (None: none).
        grey: convert to one luminance channel (ASD).
    """

    size: int
    short_side: int | None = None
    scale: float = 1.0 / 255.0
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    grey: bool = False

    def frames(self, frames: np.ndarray) -> Tensor:
        """(T, H, W, 3) uint8 -> (T, C, size, size) float32 (C = 1 if ``grey`` else 3)."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (T, 3, H, W)
        h, w = x.shape[-2:]
        if self.short_side is not None:
            s = self.short_side / min(h, w)
            nh, nw = max(int(round(h * s)), self.size), max(int(round(w * s)), self.size)
            if (nh, nw) != (h, w):
                x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
            top, left = (nh - self.size) // 2, (nw - self.size) // 2
            x = x[..., top:top + self.size, left:left + self.size]
        elif (h, w) != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        return self.normalise(x)

    def faces(self, frames: np.ndarray, boxes: np.ndarray) -> Tensor:
        """Crop ``boxes`` (T, 4) x1, y1, x2, y2 out of ``frames`` (T, H, W, 3) -> (T, C, size, size).

        Bilinear sampling of each box onto a size x size grid; parts of a box outside the frame are
        black; a box of NaNs (no face in that frame) gives a black crop.
        """
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (T, 3, H, W)
        t, _, h, w = x.shape
        b = torch.as_tensor(np.asarray(boxes, np.float64), dtype=torch.float32)  # (T, 4)
        missing = torch.isnan(b).any(1)
        b = torch.nan_to_num(b, nan=0.0)
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        bw, bh = (b[:, 2] - b[:, 0]).clamp(min=1.0), (b[:, 3] - b[:, 1]).clamp(min=1.0)
        theta = torch.zeros(t, 2, 3)
        theta[:, 0, 0], theta[:, 0, 2] = bw / w, 2 * cx / w - 1
        theta[:, 1, 1], theta[:, 1, 2] = bh / h, 2 * cy / h - 1
        grid = F.affine_grid(theta, [t, 3, self.size, self.size], align_corners=False)
        crops = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        crops[missing] = 0.0
        return self.normalise(crops)

    def normalise(self, x: Tensor) -> Tensor:
        """(T, 3, H, W) float 0-255 -> grey if asked, scaled, mean/std normalised."""
        if self.grey:
            x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)  # (T, 1, H, W)
        x = x * self.scale
        if self.mean is not None and self.std is not None:
            c = x.shape[1]
            mean = torch.tensor(self.mean[:c]).view(1, c, 1, 1)
            std = torch.tensor(self.std[:c]).view(1, c, 1, 1)
            x = (x - mean) / std
        return x.contiguous()


def _profile(hoi: int, ar: int, ar_short: int | None, pnr_short: int | None, face: int, asd: int) -> dict:
    return {
        "pnr": FrameTransform(hoi, short_side=pnr_short, scale=1.0),  # RGB 0-255, no mean/std
        "oscc": FrameTransform(hoi, short_side=pnr_short, scale=1.0),
        "ar": FrameTransform(ar, short_side=ar_short, mean=KINETICS_MEAN, std=KINETICS_STD),
        "lta": FrameTransform(ar, short_side=ar_short, mean=KINETICS_MEAN, std=KINETICS_STD),
        "lam": FrameTransform(face, mean=IMAGENET_MEAN, std=IMAGENET_STD),
        "ttm": FrameTransform(face, mean=IMAGENET_MEAN, std=IMAGENET_STD),
        "asd": FrameTransform(asd, scale=1.0, grey=True),  # grey 0-255 as TalkNet
    }


PROFILES: dict[str, dict[str, FrameTransform]] = {
    "ego4d": _profile(hoi=225, ar=224, ar_short=256, pnr_short=None, face=224, asd=112),
    "synth": _profile(hoi=64, ar=64, ar_short=None, pnr_short=None, face=32, asd=32),
}


def profile_for_root(root: str | Path) -> str:
    """``synth`` for a world written by ``egot2 synth`` (it has ``world.yaml``), else ``ego4d``."""
    root = Path(root)
    return "synth" if (root / "world.yaml").is_file() or (root.parent / "world.yaml").is_file() else "ego4d"


def task_transform(task: str, profile: str) -> FrameTransform:
    """The transform of ``task`` in ``profile`` (``ego4d`` or ``synth``)."""
    if profile not in PROFILES:
        raise UserInputError(f"unknown data profile {profile!r}; valid: {list(PROFILES)}", field="profile")
    if task not in PROFILES[profile]:
        raise UserInputError(f"no frame transform for task {task!r}; valid: {list(PROFILES[profile])}", field="task")
    return PROFILES[profile][task]
