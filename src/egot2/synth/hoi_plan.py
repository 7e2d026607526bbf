"""Planning the human-object videos: the latent timeline of every clip, before any pixel is drawn.

A plan holds everything the annotation writers need (frames, labels) and everything the renderer
needs (positions, colours, motion parameters), so that annotations are decided in one process, in a
fixed order, and rendering can run anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from egot2.synth.config import FPS, WorldConfig
from egot2.synth.grammar import Grammar, change_probability, oscc_verb_distribution
from egot2.synth.ids import stable_uuid

OSCC_CLIP_FRAMES = 8 * FPS  # 240: an 8 s clip


@dataclass
class Scene:
    """A static setting: table colour, texture and clutter.

    Args:
        background: RGB of the table.
        sleeve: RGB of the arm.
        texture_seed: seed of the table's texture.
        distractors: ``(noun, x, y)`` small objects, positions as fractions of the frame.
    """

    background: tuple[int, int, int]
    sleeve: tuple[int, int, int]
    texture_seed: int
    distractors: list[tuple[int, float, float]]


@dataclass
class HoiAction:
    """One action as it is drawn: frames are absolute frames of its video.

    Args:
        start, end: the action's frames ``[start, end)``.
        verb, noun: class ids.
        contact: frame of contact, the point of no return.
        changed: whether the object changes state at ``contact``.
        act_start, act_end: frames of the verb's motion pattern ``[act_start, act_end)``.
        enter: frame where the hand enters (it moves to the object until ``act_start``).
        leave: frame where the hand is gone again (``end`` when it stays to the end).
        obj_xy: the object's centre, fractions of the frame.
        colour: the object's RGB after colour jitter.
        amp, speed, phase: the motion pattern's amplitude and speed factors and phase.
        entry_x: where the arm crosses the bottom edge, fraction of the frame.
        scene: index into the video's scenes.
    """

    start: int
    end: int
    verb: int
    noun: int
    contact: int
    changed: bool
    act_start: int
    act_end: int
    enter: int
    leave: int
    obj_xy: tuple[float, float]
    colour: tuple[int, int, int]
    amp: float
    speed: float
    phase: float
    entry_x: float
    scene: int


@dataclass
class HoiVideoPlan:
    """One human-object video.

    Args:
        video_uid: the video's id (file ``full_scale/<video_uid>.mp4``).
        num_frames: its length in frames.
        actions: the actions, in time order.
        scenes: the settings the actions refer to.
        seed: seed of the renderer's own noise (camera shake, jitter).
    """

    video_uid: str
    num_frames: int
    actions: list[HoiAction]
    scenes: list[Scene]
    seed: int


@dataclass
class OsccClip:
    """An annotated 8 s clip of ``fho_oscc-pnr`` (frames of its parent video)."""

    unique_id: str
    video_uid: str
    clip_uid: str
    clip_id: int
    start_frame: int
    end_frame: int
    state_change: bool
    pnr_frame: int | None
    verb: int
    noun: int


@dataclass
class LtaClip:
    """A clip of ``fho_lta``: one video, its actions in order."""

    clip_uid: str
    video_uid: str
    clip_id: int
    num_frames: int
    scenario: int
    actions: list[HoiAction] = field(default_factory=list)


def _scene(rng: np.random.Generator, cfg: WorldConfig) -> Scene:
    bg = rng.integers(70, 170, size=3)
    sleeve = rng.integers(20, 120, size=3)
    spots = [(0.15, 0.15), (0.85, 0.15), (0.12, 0.55), (0.88, 0.55)]
    chosen = rng.permutation(len(spots))[:cfg.human_object.distractors]
    nouns = rng.integers(0, len(cfg.taxonomy.nouns), size=len(chosen))
    return Scene((int(bg[0]), int(bg[1]), int(bg[2])), (int(sleeve[0]), int(sleeve[1]), int(sleeve[2])),
                 int(rng.integers(2**31)),
                 [(int(n), spots[s][0] + rng.uniform(-0.04, 0.04), spots[s][1] + rng.uniform(-0.04, 0.04))
                  for n, s in zip(nouns, chosen)])


def _appearance(rng: np.random.Generator, cfg: WorldConfig, noun: int) -> dict:
    jitter = cfg.human_object.colour_jitter
    base = np.array(cfg.taxonomy.nouns[noun].colour, dtype=float)
    colour = np.clip(base + rng.uniform(-jitter, jitter, size=3), 0, 255).astype(int)
    noise = cfg.human_object.motion_noise
    return dict(
        obj_xy=(0.5 + rng.uniform(-0.08, 0.08), 0.45 + rng.uniform(-0.06, 0.06)),
        colour=(int(colour[0]), int(colour[1]), int(colour[2])),
        amp=float(np.clip(1 + noise * rng.uniform(-1, 1), 0.2, 3)),
        speed=float(np.clip(1 + 0.5 * noise * rng.uniform(-1, 1), 0.3, 3)),
        phase=float(rng.uniform(0, 2 * np.pi)),
        entry_x=float(rng.uniform(0.3, 0.7)),
    )


def plan_oscc(cfg: WorldConfig, grammar: Grammar, split: str, num_clips: int,
              rng: np.random.Generator) -> tuple[list[HoiVideoPlan], list[OsccClip]]:
    """Videos of ``clips_per_video`` consecutive 8 s clips each, and their OSCC/PNR records."""
    op = cfg.oscc_pnr
    p_verb = oscc_verb_distribution(cfg)
    p_change = change_probability(cfg)
    per_video = op.clips_per_video
    videos: list[HoiVideoPlan] = []
    clips: list[OsccClip] = []
    for v in range((num_clips + per_video - 1) // per_video):
        video_uid = stable_uuid(cfg.seed, "oscc-video", split, v)
        n_clips = min(per_video, num_clips - v * per_video)
        actions, scenes = [], []
        for c in range(n_clips):
            start = c * OSCC_CLIP_FRAMES
            verb = int(rng.choice(len(p_verb), p=p_verb))
            noun = int(rng.integers(len(cfg.taxonomy.nouns)))  # independent of everything: negative transfer
            changed = bool(rng.random() < p_change[verb])
            lo, hi = op.pnr_range
            contact = start + int(round(rng.uniform(lo, hi) * OSCC_CLIP_FRAMES))
            act_start = max(contact - int(rng.integers(15, 31)), start + 12)
            act_end = min(contact + int(rng.integers(45, 76)), start + OSCC_CLIP_FRAMES - 4)
            enter = max(act_start - int(rng.integers(15, 31)), start)
            leave = min(act_end + 18, start + OSCC_CLIP_FRAMES)
            scenes.append(_scene(rng, cfg))
            actions.append(HoiAction(start, start + OSCC_CLIP_FRAMES, verb, noun, contact, changed, act_start, act_end,
                                     enter, leave, scene=c, **_appearance(rng, cfg, noun)))
            index = v * per_video + c
            clips.append(OsccClip(
                unique_id=stable_uuid(cfg.seed, "oscc-clip", split, index), video_uid=video_uid,
                clip_uid=stable_uuid(cfg.seed, "oscc-5min", split, v), clip_id=index, start_frame=start,
                end_frame=start + OSCC_CLIP_FRAMES, state_change=changed, pnr_frame=contact if changed else None,
                verb=verb, noun=noun))
        # one trailing frame so that each clip's parent_end_frame exists in the video
        videos.append(HoiVideoPlan(video_uid, n_clips * OSCC_CLIP_FRAMES + 1, actions, scenes,
                                   int(rng.integers(2**31))))
    return videos, clips


def plan_lta(cfg: WorldConfig, grammar: Grammar, split: str, num_clips: int,
             rng: np.random.Generator) -> tuple[list[HoiVideoPlan], list[LtaClip]]:
    """One video per clip, each a grammar sequence of actions drawn back to back."""
    al = cfg.ar_lta
    p_change = change_probability(cfg)
    videos: list[HoiVideoPlan] = []
    clips: list[LtaClip] = []
    for c in range(num_clips):
        scenario = int(rng.integers(grammar.num_scenarios))
        length = int(rng.integers(al.actions_per_clip[0], al.actions_per_clip[1] + 1))
        sequence = grammar.sample(rng, scenario, length)
        scene = _scene(rng, cfg)
        video_uid = stable_uuid(cfg.seed, "lta-video", split, c)
        actions, t = [], 0
        for verb, noun in sequence:
            n = int(rng.integers(al.action_frames[0], al.action_frames[1] + 1))
            act_start = t + int(rng.integers(10, 17))
            contact = act_start + int(rng.integers(4, 13))
            actions.append(HoiAction(t, t + n, verb, noun, contact, bool(rng.random() < p_change[verb]), act_start,
                                     t + n, t, t + n, scene=0, **_appearance(rng, cfg, noun)))
            t += n
        videos.append(HoiVideoPlan(video_uid, t, actions, [scene], int(rng.integers(2**31))))
        clips.append(LtaClip(stable_uuid(cfg.seed, "lta-clip", split, c), video_uid, c, t, scenario, actions))
    return videos, clips
