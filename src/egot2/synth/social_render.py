"""Drawing conversation clips: a room, two partners whose eyes, head turn and mouth carry the cues.

Looking at the camera wearer = pupils centred and face frontal; looking away = pupils and facial
features shifted sideways by ``lam.gaze_shift``. The mouth opens with the speaker's speech envelope
(from :mod:`egot2.synth.speech`) and moves a little at random when silent (``asd.idle_mouth``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from egot2.synth.config import WorldConfig
from egot2.synth.draw import blit, blit_centered, shape_alpha
from egot2.synth.social_plan import Partner, SocialClipPlan

EYE_WHITE = np.array([245.0, 245.0, 240.0], np.float32)
PUPIL = np.array([25.0, 20.0, 20.0], np.float32)
LIPS = np.array([95.0, 30.0, 40.0], np.float32)


def _room(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    wall = rng.integers(90, 200, size=3).astype(np.float32)
    canvas = np.broadcast_to(wall, (height, width, 3)).copy()
    canvas[int(height * 0.8):] = rng.integers(40, 120, size=3)
    for _ in range(2):
        w, h = int(rng.integers(width // 8, width // 4)), int(rng.integers(height // 8, height // 3))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, int(height * 0.6)))
        canvas[y:y + h, x:x + w] = rng.integers(40, 230, size=3)
    return canvas


def _sprite(p: Partner, frame_height: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """RGB and alpha of a partner's body, neck, hair and bare face; and where the face centre sits in it."""
    fw, fh = p.face_size
    pw = int(2.6 * fw)
    ph = frame_height + fh
    rgb = np.zeros((ph, pw, 3), np.float32)
    alpha = np.zeros((ph, pw), np.float32)
    cx, cy = pw // 2, fh // 2 + 2
    skin, hair, shirt = (np.array(c, np.float32) for c in (p.skin, p.hair, p.shirt))

    def put(mask: np.ndarray, colour: np.ndarray, x: float, y: float) -> None:
        h, w = mask.shape
        x0, y0 = int(round(x - w / 2)), int(round(y - h / 2))
        blit(rgb, mask, colour, x0, y0)
        blit(alpha[..., None], mask, np.ones(1, np.float32), x0, y0)

    body_top = cy + int(0.4 * fh)
    put(shape_alpha("square", int(2.4 * fw), 2 * (ph - body_top)), shirt, cx, ph)
    put(shape_alpha("square", int(0.45 * fw), int(0.4 * fh)), skin * 0.85, cx, cy + 0.5 * fh)
    put(shape_alpha("ellipse", int(1.1 * fw), int(0.75 * fh)), hair, cx, cy - 0.2 * fh)
    put(shape_alpha("ellipse", fw, fh), skin, cx, cy + 0.04 * fh)
    rgb /= np.maximum(alpha, 1e-3)[..., None]  # colours were blended over black: undo at soft edges
    return rgb, alpha, (cx, cy)


def _blinks(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    f = int(rng.integers(0, 90))
    while f < n:
        out[f:f + 3] = True
        f += int(rng.integers(60, 180))
    return out


def _smooth_gaze(p: Partner) -> np.ndarray:
    target = np.where(p.looking, 0.0, p.away.astype(np.float64))
    out = np.empty_like(target)
    g = target[0]
    for i, t in enumerate(target):
        g += 0.5 * (t - g)
        out[i] = g
    return out


def _draw_face(canvas: np.ndarray, p: Partner, cx: float, cy: float, gaze: float, shift: float, mh: int,
               blink: bool) -> None:
    """Eyes (pupils and head turn by ``gaze``), nose and a mouth ``mh`` pixels open, on a bare face at (cx, cy)."""
    fw, fh = p.face_size
    turn = gaze * shift * 0.09 * fw
    ew, eh = max(int(round(0.24 * fw)), 3), max(int(round(0.12 * fh)), 2)
    pupil = shape_alpha("ellipse", max(int(round(0.12 * fw)), 2), max(int(round(0.12 * fw)), 2))
    for side in (-1, 1):
        ex, ey = cx + side * 0.21 * fw + turn, cy - 0.06 * fh
        if blink:
            blit_centered(canvas, shape_alpha("ellipse", ew, 2), PUPIL, ex, ey)
            continue
        blit_centered(canvas, shape_alpha("ellipse", ew, eh), EYE_WHITE, ex, ey)
        blit_centered(canvas, pupil, PUPIL, ex + gaze * shift * 0.34 * ew, ey)
    skin = np.array(p.skin, np.float32)
    blit_centered(canvas, shape_alpha("ellipse", max(int(0.12 * fw), 2), max(int(0.14 * fh), 2)), skin * 0.8,
                  cx + 1.6 * turn, cy + 0.1 * fh)
    blit_centered(canvas, shape_alpha("ellipse", max(int(round(0.38 * fw)), 3), mh), LIPS, cx + turn, cy + 0.3 * fh)


class _Faces:
    """A partner's face patches (features drawn over the bare face), drawn once per distinct look.

    What changes between frames is the gaze (quantised to 1/64, below a pixel), the mouth opening (in
    whole pixels) and blinks, so a clip needs a few hundred distinct patches, not one per frame.
    """

    def __init__(self, p: Partner, rgb: np.ndarray, alpha: np.ndarray, centre: tuple[int, int], shift: float) -> None:
        fw, fh = p.face_size
        sx, sy = centre
        self.p, self.shift = p, shift
        self.x0, self.y0 = max(sx - int(0.7 * fw), 0), max(sy - int(0.7 * fh), 0)
        self.cx, self.cy = sx - self.x0, sy - self.y0
        self.rgb = rgb[self.y0:sy + int(0.7 * fh) + 1, self.x0:sx + int(0.7 * fw) + 1]
        self.alpha = alpha[self.y0:sy + int(0.7 * fh) + 1, self.x0:sx + int(0.7 * fw) + 1]
        self.cache: dict[tuple[int, int, bool], np.ndarray] = {}

    def patch(self, gaze: float, mouth: float, blink: bool) -> np.ndarray:
        """The face region's RGB for this look (blit it with :attr:`alpha`)."""
        key = (int(round(gaze * 64)), int(round(1.5 + mouth * 0.2 * self.p.face_size[1])), blink)
        if key not in self.cache:
            img = self.rgb.copy()
            _draw_face(img, self.p, self.cx, self.cy, key[0] / 64, self.shift, key[1], blink)
            self.cache[key] = img
        return self.cache[key]


def render_social(plan: SocialClipPlan, cfg: WorldConfig, mouth: dict[str, np.ndarray]) -> Iterator[np.ndarray]:
    """Yield the frames (height, width, 3) uint8 of ``plan``; ``mouth`` from :func:`synth_audio`."""
    hh = cfg.human_human
    rng = np.random.default_rng([plan.seed, 2])
    room = _room(rng, hh.width, hh.height)
    sprites = [_sprite(p, hh.height) for p in plan.partners]
    faces = [_Faces(p, rgb, alpha, centre, cfg.lam.gaze_shift) for p, (rgb, alpha, centre) in zip(plan.partners, sprites)]
    gazes = [_smooth_gaze(p) for p in plan.partners]
    blinks = [_blinks(rng, plan.num_frames) for _ in plan.partners]
    for f in range(plan.num_frames):
        canvas = room.copy()
        for p, (rgb, alpha, (sx, sy)), face, gaze, blink in zip(plan.partners, sprites, faces, gazes, blinks):
            x0, y0 = int(round(p.face_xy[f][0])) - sx, int(round(p.face_xy[f][1])) - sy
            blit(canvas, alpha, rgb, x0, y0)
            patch = face.patch(float(gaze[f]), float(mouth[p.person_id][f]), bool(blink[f]))
            blit(canvas, face.alpha, patch, x0 + face.x0, y0 + face.y0)
        yield np.clip(canvas, 0, 255).astype(np.uint8)
