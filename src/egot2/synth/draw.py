"""Raster primitives of the synthetic world: anti-aliased shape masks and alpha blitting (numpy only)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_SUPERSAMPLE = 4


def _inside(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points (x, y) in [-1, 1]^2 that lie inside ``shape``."""
    if shape == "disc":
        return x * x + y * y <= 1.0
    if shape == "ring":
        r2 = x * x + y * y
        return (r2 <= 1.0) & (r2 >= 0.3)
    if shape == "square":
        return (np.abs(x) <= 0.85) & (np.abs(y) <= 0.85)
    if shape == "triangle":
        return (y <= 0.9) & (np.abs(x) <= (y + 1.0) / 1.9)
    if shape == "bar":
        return (np.abs(x) <= 0.42) & (np.abs(y) <= 1.0)
    if shape == "diamond":
        return np.abs(x) + np.abs(y) <= 1.0
    if shape == "ellipse":
        return x * x + y * y <= 1.0
    raise ValueError(f"unknown shape {shape!r}")


@lru_cache(maxsize=4096)
def shape_alpha(shape: str, width: int, height: int) -> np.ndarray:
    """Anti-aliased coverage (height, width) float32 in [0, 1] of ``shape`` filling a width x height box."""
    width, height = max(int(width), 1), max(int(height), 1)
    s = _SUPERSAMPLE
    xs = (np.arange(width * s) + 0.5) / (width * s) * 2 - 1
    ys = (np.arange(height * s) + 0.5) / (height * s) * 2 - 1
    inside = _inside(shape, xs[None, :], ys[:, None]).astype(np.float32)  # (H*s, W*s)
    alpha = inside.reshape(height, s, width, s).mean(axis=(1, 3))
    alpha.setflags(write=False)
    return alpha


@lru_cache(maxsize=4096)
def split_alpha(shape: str, width: int, height: int, gap: int) -> np.ndarray:
    """``shape`` cut vertically in two halves pushed ``gap`` pixels apart: (height, width + gap)."""
    base = shape_alpha(shape, width, height)
    half = width // 2
    out = np.zeros((height, width + gap), np.float32)
    out[:, :half] = base[:, :half]
    out[:, half + gap:] = base[:, half:]
    out.setflags(write=False)
    return out


def blit(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend a flat ``colour`` (3,) or an image (h, w, 3) through ``alpha`` (h, w) at (x0, y0), clipped."""
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if xa >= xb or ya >= yb:
        return
    a = alpha[ya - y0:yb - y0, xa - x0:xb - x0, None]
    region = canvas[ya:yb, xa:xb]
    src = colour if colour.ndim == 1 else colour[ya - y0:yb - y0, xa - x0:xb - x0]
    region += a * (src - region)


def blit_centered(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray, cx: float, cy: float) -> None:
    """:func:`blit` with the mask's centre at (cx, cy)."""
    h, w = alpha.shape
    blit(canvas, alpha, colour, int(round(cx - w / 2)), int(round(cy - h / 2)))


def thick_segment_alpha(
    shape_hw: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], radius: float
) -> tuple[np.ndarray, int, int]:
    """Coverage of a segment p0-p1 of half-width ``radius``, as (mask, x0, y0) over its bounding box."""
    H, W = shape_hw
    x0 = max(int(np.floor(min(p0[0], p1[0]) - radius - 1)), 0)
    y0 = max(int(np.floor(min(p0[1], p1[1]) - radius - 1)), 0)
    x1 = min(int(np.ceil(max(p0[0], p1[0]) + radius + 1)), W)
    y1 = min(int(np.ceil(max(p0[1], p1[1]) + radius + 1)), H)
    if x0 >= x1 or y0 >= y1:
        return np.zeros((0, 0), np.float32), 0, 0
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    norm = dx * dx + dy * dy
    t = np.clip(((xs - p0[0]) * dx + (ys - p0[1]) * dy) / norm, 0.0, 1.0) if norm > 0 else np.zeros_like(xs)
    d = np.hypot(xs - (p0[0] + t * dx), ys - (p0[1] + t * dy))
    return np.clip(radius + 0.5 - d, 0.0, 1.0).astype(np.float32), x0, y0


def smooth_noise(rng: np.random.Generator, n: int, scale: float, corr_frames: float) -> np.ndarray:
    """(n,) a smooth random signal: white noise low-passed over ~``corr_frames`` samples, std ~``scale``."""
    if n == 0:
        return np.zeros(0)
    k = max(int(corr_frames), 1)
    raw = rng.standard_normal(n + 2 * k)
    kernel = np.hanning(2 * k + 1)
    kernel /= np.sqrt((kernel**2).sum())
    return np.convolve(raw, kernel, mode="same")[k:k + n] * scale
