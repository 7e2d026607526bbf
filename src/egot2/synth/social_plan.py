"""Planning the conversation clips (LAM, TTM, ASD): who speaks when, to whom, and where everyone looks.

Persons: "0" is the camera wearer (heard, never seen), "1" and "2" are the visible partners, "3" an
off-screen talker (heard only). The planted relations:

* a partner's utterance is addressed to the wearer with probability ``p_address_wearer``; the partner
  then looks at the camera for the whole utterance, otherwise at the other partner;
* while the wearer speaks a partner looks at the camera with probability ``p_look_when_wearer_speaks``;
  elsewhere a partner's gaze alternates in 0.5-2.5 s stretches, looking with ``p_look_idle``;
* a TTM candidate segment is a partner's own utterance (positive iff addressed to the wearer) or, with
  probability ``listener_segments``, a silent partner over someone else's utterance (negative); each
  label is flipped with probability ``label_noise``. So "talking to me" = speaking AND looking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egot2.synth.config import FPS, WorldConfig
from egot2.synth.draw import smooth_noise
from egot2.synth.ids import stable_uuid

WEARER, OFFSCREEN = "0", "3"
PARTNERS = ("1", "2")


@dataclass
class Utterance:
    """One stretch of speech: frames ``start..end`` inclusive; ``addressee`` "0" is the wearer."""

    speaker: str
    start: int
    end: int
    addressee: str | None


@dataclass
class Partner:
    """A visible conversation partner and everything drawn of them, per frame.

    Args:
        person_id: "1" or "2".
        track_id: the id of their face track.
        boxes: (n, 4) face boxes x, y, width, height (pixels) as annotated.
        face_xy: (n, 2) drawn face centre (pixels).
        face_size: (width, height) of the drawn face.
        looking: (n,) bool, looking at the camera wearer.
        away: (n,) how far and to which side they look when not looking at the camera: -1 or +1, or
            -0.1 or +0.1 in a near miss (``lam.near_miss``).
        skin, hair, shirt: RGB colours.
        f0: voice pitch in Hz.
    """

    person_id: str
    track_id: str
    boxes: np.ndarray
    face_xy: np.ndarray
    face_size: tuple[int, int]
    looking: np.ndarray
    away: np.ndarray
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    f0: float


@dataclass
class TalkSegment:
    """A TTM candidate: ``person`` over frames ``start..end``; ``target`` "0" when labelled positive.

    ``speaking`` and ``addressed`` are the latent truth (before label noise).
    """

    person: str
    start: int
    end: int
    target: str | None
    speaking: bool
    addressed: bool


@dataclass
class SocialClipPlan:
    """One conversation clip (one video with audio).

    Args:
        clip_uid, video_uid: ids.
        num_frames: frames at 30 fps.
        utterances: all speech, in time order.
        partners: the visible partners.
        voices: person id -> (pitch Hz, gain).
        talking: TTM candidate segments (empty when the clip is not annotated for TTM).
        ttm_annotated: whether the talking segments are annotated.
        seed: seed of the renderer's and the audio's own randomness.
    """

    clip_uid: str
    video_uid: str
    num_frames: int
    utterances: list[Utterance]
    partners: list[Partner]
    voices: dict[str, tuple[float, float]]
    talking: list[TalkSegment]
    ttm_annotated: bool
    seed: int

    def speaking(self, person: str) -> np.ndarray:
        """(n,) bool: frames inside ``person``'s utterances."""
        out = np.zeros(self.num_frames, bool)
        for u in self.utterances:
            if u.speaker == person:
                out[u.start:u.end + 1] = True
        return out


def _utterances(cfg: WorldConfig, n: int, rng: np.random.Generator) -> list[Utterance]:
    hh = cfg.human_human
    w = np.array(hh.speaker_weights, float)
    w = w / w.sum()
    out: list[Utterance] = []
    t = rng.uniform(0.0, 1.0)
    prev = None
    while True:
        dur = rng.uniform(*hh.utterance_seconds)
        start, end = int(round(t * FPS)), int(round((t + dur) * FPS)) - 1
        if end >= n:
            break
        kind = rng.choice(3, p=w)
        speaker = (str(rng.choice(PARTNERS)), WEARER, OFFSCREEN)[kind]
        if speaker == prev and rng.random() < 0.7:
            speaker = (str(rng.choice(PARTNERS)), WEARER, OFFSCREEN)[rng.choice(3, p=w)]
        addressee = None
        if speaker in PARTNERS:
            other = PARTNERS[1 - PARTNERS.index(speaker)]
            addressee = WEARER if rng.random() < hh.p_address_wearer else other
        out.append(Utterance(speaker, start, end, addressee))
        prev = speaker
        t += dur + rng.uniform(*hh.gap_seconds)
    return out


NEAR_MISS = 0.1  # a near miss turns the eyes and face this fraction of a full look-away


def _gaze(cfg: WorldConfig, n: int, person: str, utterances: list[Utterance],
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    hh = cfg.human_human
    toward_other = 1 if person == PARTNERS[0] else -1  # partner 1 sits left, partner 2 right
    looking = np.zeros(n, bool)
    away = np.zeros(n, np.float32)
    f = 0
    while f < n:
        run = int(rng.uniform(0.5, 2.5) * FPS)
        looking[f:f + run] = rng.random() < hh.p_look_idle
        away[f:f + run] = rng.choice([-1, 1])
        if cfg.lam.near_miss > 0 and not looking[f] and rng.random() < cfg.lam.near_miss:
            away[f:f + run] *= NEAR_MISS  # draws nothing more when near_miss is 0: the world stays the same
        f += run
    for u in utterances:
        span = slice(u.start, u.end + 1)
        if u.speaker == person:
            looking[span] = u.addressee == WEARER
            away[span] = toward_other
        elif u.speaker == WEARER and rng.random() < hh.p_look_when_wearer_speaks:
            looking[span] = True
    return looking, away


def _partner(cfg: WorldConfig, clip_uid: str, person: str, n: int, utterances: list[Utterance],
             rng: np.random.Generator) -> Partner:
    hh = cfg.human_human
    fh = int(rng.integers(hh.face_height[0], hh.face_height[1] + 1))
    fw = int(round(0.78 * fh))
    side = PARTNERS.index(person)
    cx = hh.width * (0.28 + 0.44 * side) + rng.uniform(-0.04, 0.04) * hh.width
    cy = hh.height * 0.12 + fh / 2 + rng.uniform(0, 0.06) * hh.height
    dx, dy = smooth_noise(rng, n, 1.5, 20), smooth_noise(rng, n, 1.0, 20)
    face_xy = np.stack([cx + dx, cy + dy], axis=1)
    noise = rng.normal(0, 0.6, (n, 4))
    boxes = np.stack([face_xy[:, 0] - fw / 2, face_xy[:, 1] - fh / 2, np.full(n, fw), np.full(n, fh)], 1) + noise
    looking, away = _gaze(cfg, n, person, utterances, rng)
    skin = rng.uniform(0.5, 1.0) * np.array([240.0, 195.0, 165.0])
    return Partner(
        person_id=person, track_id=f"{clip_uid[:8]}-{person}", boxes=np.round(boxes, 2), face_xy=face_xy,
        face_size=(fw, fh), looking=looking, away=away,
        skin=tuple(int(c) for c in skin), hair=tuple(int(c) for c in rng.integers(10, 90, size=3)),
        shirt=tuple(int(c) for c in rng.integers(30, 220, size=3)), f0=float(rng.uniform(95, 240)))


def _talking(cfg: WorldConfig, utterances: list[Utterance], rng: np.random.Generator) -> list[TalkSegment]:
    out = []
    for u in utterances:
        for p in PARTNERS:
            if u.speaker == p:
                seg = TalkSegment(p, u.start, u.end, None, True, u.addressee == WEARER)
            elif rng.random() < cfg.ttm.listener_segments:
                seg = TalkSegment(p, u.start, u.end, None, False, False)
            else:
                continue
            positive = seg.speaking and seg.addressed
            if rng.random() < cfg.ttm.label_noise:
                positive = not positive
            seg.target = WEARER if positive else None
            out.append(seg)
    return out


def plan_social(cfg: WorldConfig, split: str, num_clips: int, rng: np.random.Generator) -> list[SocialClipPlan]:
    """Plans of ``num_clips`` conversation clips of ``split``; a ``ttm.train_fraction`` of the train
    clips (at least one) carries talking segments, every val/test clip does."""
    hh = cfg.human_human
    n = int(round(hh.clip_seconds * FPS))
    annotated = np.ones(num_clips, bool)
    if split == "train":
        k = max(1, int(round(cfg.ttm.train_fraction * num_clips)))
        annotated[:] = False
        annotated[rng.permutation(num_clips)[:k]] = True
    plans = []
    for c in range(num_clips):
        clip_uid = stable_uuid(cfg.seed, "av-clip", split, c)
        utterances = _utterances(cfg, n, rng)
        partners = [_partner(cfg, clip_uid, p, n, utterances, rng) for p in PARTNERS]
        voices = {p.person_id: (p.f0, 0.5) for p in partners}
        voices[WEARER] = (float(rng.uniform(95, 240)), 0.9)
        voices[OFFSCREEN] = (float(rng.uniform(95, 240)), 0.3)
        talking = _talking(cfg, utterances, rng)
        plans.append(SocialClipPlan(
            clip_uid=clip_uid, video_uid=stable_uuid(cfg.seed, "av-video", split, c), num_frames=n,
            utterances=utterances, partners=partners, voices=voices,
            talking=talking if annotated[c] else [], ttm_annotated=bool(annotated[c]),
            seed=int(rng.integers(2**31))))
    return plans
