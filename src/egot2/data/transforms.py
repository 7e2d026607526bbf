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

    def frames(self, frames: np.ndarray, layout: str = "tchw", clips: int = 1) -> Tensor:
        """(T, H, W, 3) uint8 -> float32 (T, C, size, size), or (C, T, size, size) with ``layout="cthw"``
        (C = 1 if ``grey`` else 3). ``clips > 1`` splits T into that many equal clips and adds a leading
        clip dimension: (clips, C, T / clips, size, size) for ``cthw``."""
        t, h, w, _ = frames.shape
        if self.short_side is None and (h, w) == (self.size, self.size) and not self.grey:
            x = torch.from_numpy(np.ascontiguousarray(frames)).view(clips, t // clips, h, w, 3)
            dims = (0, 1, 4, 2, 3) if layout == "tchw" else (0, 4, 1, 2, 3)  # convert straight into the layout
            out = torch.empty([x.shape[d] for d in dims], dtype=torch.float32)
            out.copy_(x.permute(*dims))
            out = self._affine(out, channel_dim=2 if layout == "tchw" else 1)
            return out[0] if clips == 1 else out
        if clips > 1:
            return torch.stack([self.frames(part, layout) for part in np.split(frames, clips)])
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (T, 3, H, W)
        if self.short_side is not None:
            s = self.short_side / min(h, w)
            nh, nw = max(int(round(h * s)), self.size), max(int(round(w * s)), self.size)
            if (nh, nw) != (h, w):
                x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
            top, left = (nh - self.size) // 2, (nw - self.size) // 2
            x = x[..., top:top + self.size, left:left + self.size]
        elif (h, w) != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        x = self.normalise(x)
        return x if layout == "tchw" else x.permute(1, 0, 2, 3).contiguous()

    def faces(self, frames: np.ndarray, boxes: np.ndarray) -> Tensor:
        """Crop ``boxes`` (T, 4) x1, y1, x2, y2 out of ``frames`` -> (T, C, size, size).

        ``frames`` are (T, H, W, 3) RGB, or (T, H, W) grey for a ``grey`` transform. Bilinear sampling
        of each box onto a size x size grid; parts of a box outside the frame are black; a box of NaNs
        (no face in that frame) gives a black crop. Only the region around all boxes becomes float.
        """
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        missing = np.isnan(b).any(1)
        b = np.where(missing[:, None], 0.0, b)
        if frames.ndim == 3:
            if not self.grey:
                raise ValueError("grey frames need a grey transform")
            frames = frames[..., None]
        t, h, w, _ = frames.shape
        if (~missing).any():  # crop to the boxes' union (plus a pixel) before converting to float
            x0 = int(np.clip(np.floor(b[~missing, 0].min()) - 1, 0, w - 1))
            y0 = int(np.clip(np.floor(b[~missing, 1].min()) - 1, 0, h - 1))
            x1 = int(np.clip(np.ceil(b[~missing, 2].max()) + 1, x0 + 1, w))
            y1 = int(np.clip(np.ceil(b[~missing, 3].max()) + 1, y0 + 1, h))
        else:
            x0, y0, x1, y1 = 0, 0, 1, 1
        region = torch.from_numpy(np.ascontiguousarray(frames[:, y0:y1, x0:x1])).permute(0, 3, 1, 2).float()
        if self.grey and region.shape[1] == 3:  # linear, so it commutes with bilinear sampling
            region = (0.299 * region[:, 0] + 0.587 * region[:, 1] + 0.114 * region[:, 2]).unsqueeze(1)
        rh, rw = y1 - y0, x1 - x0
        bt = torch.as_tensor(b - np.array([x0, y0, x0, y0]), dtype=torch.float32)  # boxes in region pixels
        # sampling grid in normalised region coordinates (align_corners=False): pixel centres of each box
        u = (torch.arange(self.size, dtype=torch.float32) + 0.5) / self.size  # (S,) in (0, 1)
        gx = (bt[:, 0:1] + u[None] * (bt[:, 2:3] - bt[:, 0:1]).clamp(min=1.0)) * (2 / rw) - 1  # (T, S)
        gy = (bt[:, 1:2] + u[None] * (bt[:, 3:4] - bt[:, 1:2]).clamp(min=1.0)) * (2 / rh) - 1  # (T, S)
        grid = torch.stack([gx[:, None, :].expand(t, self.size, self.size),
                            gy[:, :, None].expand(t, self.size, self.size)], dim=-1)  # (T, S, S, 2)
        crops = F.grid_sample(region, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if missing.any():
            crops[torch.from_numpy(missing)] = 0.0
        return self._affine(crops, channel_dim=1)

    def normalise(self, x: Tensor) -> Tensor:
        """(T, 3, H, W) float 0-255 -> grey if asked, scaled, mean/std normalised."""
        if self.grey:
            x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)  # (T, 1, H, W)
        return self._affine(x.contiguous(), channel_dim=1)

    def _affine(self, x: Tensor, channel_dim: int) -> Tensor:
        """In place: ``x * scale``, then ``(x - mean) / std`` per channel along ``channel_dim``."""
        c = x.shape[channel_dim]
        if self.mean is None or self.std is None:
            return x.mul_(self.scale) if self.scale != 1.0 else x
        shape = [1] * x.dim()
        shape[channel_dim] = c
        a = torch.tensor([self.scale / s for s in self.std[:c]]).view(shape)
        b = torch.tensor([-m / s for m, s in zip(self.mean[:c], self.std[:c])]).view(shape)
        return x.mul_(a).add_(b)


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
