"""Drawing human-object videos from their plans: a table from above, objects, a hand with an arm.

The verb sets the hand's motion pattern (:data:`PATTERNS`); the noun sets the object's shape and
colour; a state-changing verb changes the object at the contact frame (split, fill, squash, recolour)
with a visibility set by ``oscc_pnr.change_strength``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from egot2.synth.config import FPS, WorldConfig
from egot2.synth.draw import blit, blit_centered, shape_alpha, smooth_noise, split_alpha, thick_segment_alpha
from egot2.synth.hoi_plan import HoiAction, HoiVideoPlan, Scene

# motion -> (base offset in object radii (dx, dy), carries the object after contact)
PATTERNS: dict[str, tuple[tuple[float, float], bool]] = {
    "lift": ((0.0, 0.9), True), "lower": ((0.0, -0.9), True), "chop": ((0.0, -1.2), False),
    "pour": ((1.0, -1.4), False), "press": ((0.0, -0.8), False), "brush": ((0.0, -0.3), False),
    "sweep": ((0.0, 1.4), False), "stir": ((0.0, -1.0), False), "shake": ((0.0, 0.8), True),
    "hover": ((1.3, 0.0), False),
}
SKIN = np.array([224.0, 172.0, 140.0], np.float32)
CHANGE_RAMP = 6  # frames over which a state change completes


def _periodic(motion: str, tau: np.ndarray, a: ActionCtx) -> tuple[np.ndarray, np.ndarray]:
    """The verb's periodic hand offset in pixels at times ``tau`` (s) since the motion began."""
    w, ph, u = 2 * np.pi * a.speed, a.phase, a.amp * a.scale
    zero = np.zeros_like(tau)
    if motion == "chop":
        return zero, 5 * u * np.sin(2.5 * w * tau + ph)
    if motion == "pour":
        return 4 * u * np.sin(0.7 * w * tau + ph), 3 * u * np.cos(0.7 * w * tau + ph)
    if motion == "press":
        return zero, 2.5 * u * (0.5 + 0.5 * np.sin(1.2 * w * tau + ph))
    if motion == "brush":
        return 4 * u * np.sin(3.0 * w * tau + ph), zero
    if motion == "sweep":
        return 12 * u * np.sin(0.8 * w * tau + ph), zero
    if motion == "stir":
        return 5 * u * np.cos(1.5 * w * tau + ph), 3 * u * np.sin(1.5 * w * tau + ph)
    if motion == "hover":
        return 3 * u * np.sin(0.3 * w * tau + ph), 3 * u * np.cos(0.25 * w * tau + ph)
    return zero, zero


def _carry(motion: str, tau: np.ndarray, a: ActionCtx) -> tuple[np.ndarray, np.ndarray]:
    """How far a carried object has moved ``tau`` seconds after contact (0 before)."""
    t = np.maximum(tau, 0.0)
    u, w = a.amp * a.scale, 2 * np.pi * a.speed
    on = (tau >= 0).astype(float)
    if motion == "lift":
        return np.zeros_like(t), -np.minimum(14 * t, 12) * u
    if motion == "lower":
        return np.zeros_like(t), np.minimum(10 * t, 8) * u
    if motion == "shake":
        return on * 3 * u * np.sin(5 * w * t + a.phase), on * 2.5 * u * np.cos(4.3 * w * t)
    return np.zeros_like(t), np.zeros_like(t)


class ActionCtx:
    """Per-frame positions of one action, precomputed (canvas pixel coordinates)."""

    def __init__(self, action: HoiAction, cfg: WorldConfig, size: int, margin: int, rng: np.random.Generator) -> None:
        self.a = action
        self.scale = size / 64.0
        self.amp, self.speed, self.phase = action.amp, action.speed, action.phase
        verb = cfg.taxonomy.verbs[action.verb]
        noun = cfg.taxonomy.nouns[action.noun]
        self.change, self.shape = verb.change, noun.shape
        self.radius = 0.15 * size
        frames = np.arange(action.start, action.end)
        n = len(frames)
        ox, oy = margin + action.obj_xy[0] * size, margin + action.obj_xy[1] * size
        (bx, by), carries = PATTERNS[verb.motion]
        tau_c = (frames - action.contact) / FPS
        cx, cy = _carry(verb.motion, tau_c, self) if carries else (np.zeros(n), np.zeros(n))
        self.obj_x, self.obj_y = ox + cx, oy + cy
        px, py = _periodic(verb.motion, (frames - action.act_start) / FPS, self)
        jitter = cfg.human_object.motion_noise * 1.2
        pat_x = self.obj_x + bx * self.radius + px + smooth_noise(rng, n, jitter, 4)
        pat_y = self.obj_y + by * self.radius + py + smooth_noise(rng, n, jitter, 4)
        entry = (margin + action.entry_x * size, margin + size + 0.2 * size)
        hx, hy = pat_x.copy(), pat_y.copy()
        i_act, i_end = action.act_start - action.start, action.act_end - action.start
        i_enter, i_leave = action.enter - action.start, action.leave - action.start
        if i_act > i_enter:
            s = _ease(np.linspace(0, 1, i_act - i_enter, endpoint=False))
            hx[i_enter:i_act] = entry[0] + s * (pat_x[i_act if i_act < n else n - 1] - entry[0])
            hy[i_enter:i_act] = entry[1] + s * (pat_y[i_act if i_act < n else n - 1] - entry[1])
        if i_leave > i_end:
            s = _ease(np.linspace(0, 1, i_leave - i_end))
            hx[i_end:i_leave] = pat_x[i_end - 1] + s * (entry[0] - pat_x[i_end - 1])
            hy[i_end:i_leave] = pat_y[i_end - 1] + s * (entry[1] - pat_y[i_end - 1])
        self.hand_on = (frames >= action.enter) & (frames < action.leave)
        self.hand_x, self.hand_y, self.entry = hx, hy, entry
        self.progress = np.clip((frames - action.contact + 1) / CHANGE_RAMP, 0, 1) if action.changed else np.zeros(n)
        self.colour = np.array(action.colour, np.float32)


def _ease(s: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * s)


def _scene_canvas(scene: Scene, cfg: WorldConfig, side: int, margin: int) -> np.ndarray:
    rng = np.random.default_rng(scene.texture_seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    fx, fy = rng.uniform(0.05, 0.2, size=2)
    tex = 8 * np.sin(x * fx + rng.uniform(0, 6)) * np.sin(y * fy + rng.uniform(0, 6))
    canvas = np.array(scene.background, np.float32)[None, None] + tex[..., None] + rng.normal(0, 3, (side, side, 1))
    size = side - 2 * margin
    d = max(int(0.17 * size), 4)
    for noun, fx_, fy_ in scene.distractors:
        nd = cfg.taxonomy.nouns[noun]
        blit_centered(canvas, shape_alpha(nd.shape, d, d), np.array(nd.colour, np.float32),
                      margin + fx_ * size, margin + fy_ * size)
    return np.clip(canvas, 0, 255).astype(np.float32)


def _draw_object(canvas: np.ndarray, ctx: ActionCtx, i: int, strength: float) -> None:
    p = float(ctx.progress[i])
    d = 2 * ctx.radius
    w = h = int(round(d))
    colour = ctx.colour
    cx, cy = ctx.obj_x[i], ctx.obj_y[i]
    if ctx.change == "split" and p > 0:
        gap = int(round(p * (1 + 5 * strength) * ctx.scale))
        blit_centered(canvas, split_alpha(ctx.shape, w, h, gap), colour, cx, cy)
        return
    if ctx.change == "squash" and p > 0:
        w2, h2 = int(round(w * (1 + 0.35 * strength * p))), int(round(h * (1 - 0.5 * strength * p)))
        blit_centered(canvas, shape_alpha(ctx.shape, w2, h2), colour, cx, cy + (h - h2) / 2)
        return
    if ctx.change == "recolour" and p > 0:
        target = colour[[2, 0, 1]]
        colour = colour + (target - colour) * 0.9 * strength * p
    alpha = shape_alpha(ctx.shape, w, h)
    if ctx.change == "fill" and p > 0:
        liquid = np.array([240.0, 240.0, 240.0] if colour[2] > 150 else [40.0, 70.0, 235.0], np.float32)
        img = np.broadcast_to(colour, (h, w, 3)).copy()
        level = int(round(h * (1 - 0.6 * p)))
        img[level:] += (liquid - colour) * (0.25 + 0.75 * strength)
        blit(canvas, alpha, img, int(round(cx - w / 2)), int(round(cy - h / 2)))
        return
    blit_centered(canvas, alpha, colour, cx, cy)


def _draw_hand(canvas: np.ndarray, ctx: ActionCtx, i: int, sleeve: np.ndarray) -> None:
    if not ctx.hand_on[i]:
        return
    hx, hy = float(ctx.hand_x[i]), float(ctx.hand_y[i])
    mask, x0, y0 = thick_segment_alpha(canvas.shape[:2], (hx, hy + 2 * ctx.scale), ctx.entry, 3.5 * ctx.scale)
    if mask.size:
        blit(canvas, mask, sleeve, x0, y0)
    s = ctx.scale
    blit_centered(canvas, shape_alpha("ellipse", int(round(11 * s)), int(round(13 * s))), SKIN, hx, hy)


def render_hoi(plan: HoiVideoPlan, cfg: WorldConfig) -> Iterator[np.ndarray]:
    """Yield the frames (size, size, 3) uint8 of ``plan``, in order."""
    size = cfg.human_object.size
    shake = cfg.human_object.camera_shake
    margin = int(np.ceil(3 * shake)) + 1
    side = size + 2 * margin
    rng = np.random.default_rng(plan.seed)
    sx = np.clip(np.round(smooth_noise(rng, plan.num_frames, shake, 6)), -margin, margin).astype(int)
    sy = np.clip(np.round(smooth_noise(rng, plan.num_frames, shake, 6)), -margin, margin).astype(int)
    canvases = [_scene_canvas(s, cfg, side, margin) for s in plan.scenes]
    sleeves = [np.array(s.sleeve, np.float32) for s in plan.scenes]
    strength = cfg.oscc_pnr.change_strength
    f = 0
    canvas = np.zeros((side, side, 3), np.float32)
    for action in plan.actions:
        while f < action.start:  # a gap between actions repeats the last picture
            yield _crop(canvas, margin, sx[f], sy[f], size)
            f += 1
        ctx = ActionCtx(action, cfg, size, margin, rng)
        for i in range(action.end - action.start):
            canvas = canvases[action.scene].copy()
            _draw_object(canvas, ctx, i, strength)
            _draw_hand(canvas, ctx, i, sleeves[action.scene])
            yield _crop(canvas, margin, sx[f], sy[f], size)
            f += 1
    while f < plan.num_frames:
        yield _crop(canvas, margin, sx[f], sy[f], size)
        f += 1


def _crop(canvas: np.ndarray, margin: int, dx: int, dy: int, size: int) -> np.ndarray:
    y, x = margin + dy, margin + dx
    return np.clip(canvas[y:y + size, x:x + size], 0, 255).astype(np.uint8)
