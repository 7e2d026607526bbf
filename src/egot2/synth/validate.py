"""Checks of a :class:`~egot2.synth.config.WorldConfig`: every value and cross-reference, each error
naming its key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from egot2.errors import UserInputError
from egot2.synth.config import AUDIO_CODECS, CHANGES, CODECS, MIN_LTA_ACTIONS, MOTIONS, SHAPES

if TYPE_CHECKING:
    from egot2.synth.config import TaxonomyConfig, WorldConfig


def _prob(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise UserInputError(f"must be a probability in [0, 1], got {value}", field=name)


def _range(value: Sequence[float], name: str, lo: float = 0.0) -> None:
    if len(value) != 2 or not lo <= value[0] <= value[1]:
        raise UserInputError(f"must be [low, high] with {lo} <= low <= high, got {list(value)}", field=name)


def _check_taxonomy(tax: TaxonomyConfig) -> None:
    for kind, items in (("verbs", tax.verbs), ("nouns", tax.nouns)):
        names = [i.name for i in items]
        if len(names) < 2 or len(set(names)) != len(names) or not all(names):
            raise UserInputError(f"needs >= 2 unique, non-empty names, got {names}", field=f"taxonomy.{kind}")
    for i, v in enumerate(tax.verbs):
        if v.motion not in MOTIONS:
            raise UserInputError(f"unknown motion {v.motion!r}; valid: {list(MOTIONS)}",
                                 field=f"taxonomy.verbs[{i}].motion")
        if v.change not in CHANGES:
            raise UserInputError(f"unknown change {v.change!r}; valid: {list(CHANGES)}",
                                 field=f"taxonomy.verbs[{i}].change")
    for i, n in enumerate(tax.nouns):
        if n.shape not in SHAPES:
            raise UserInputError(f"unknown shape {n.shape!r}; valid: {list(SHAPES)}", field=f"taxonomy.nouns[{i}].shape")
        if len(n.colour) != 3 or not all(0 <= c <= 255 for c in n.colour):
            raise UserInputError(f"must be 3 integers in 0..255, got {n.colour}", field=f"taxonomy.nouns[{i}].colour")
    if not tax.scenarios:
        raise UserInputError("needs at least one scenario", field="taxonomy.scenarios")
    verbs, nouns = {v.name for v in tax.verbs}, {n.name for n in tax.nouns}
    for i, s in enumerate(tax.scenarios):
        for kind, known in (("verbs", verbs), ("nouns", nouns)):
            names = getattr(s, kind)
            if not names or len(set(names)) != len(names):
                raise UserInputError(f"scenario {s.name!r} needs a non-empty list without repeats",
                                     field=f"taxonomy.scenarios[{i}].{kind}")
            unknown = [n for n in names if n not in known]
            if unknown:
                raise UserInputError(f"scenario {s.name!r} names unknown {kind} {unknown}; valid: {sorted(known)}",
                                     field=f"taxonomy.scenarios[{i}].{kind}")


def validate_world(cfg: WorldConfig) -> None:
    """Check every value and cross-reference of ``cfg``; raise a :class:`UserInputError` naming the key."""
    if cfg.video.codec not in CODECS:
        raise UserInputError(f"must be one of {list(CODECS)}, got {cfg.video.codec!r}", field="video.codec")
    if cfg.video.audio_codec not in AUDIO_CODECS:
        raise UserInputError(f"must be one of {list(AUDIO_CODECS)}, got {cfg.video.audio_codec!r}",
                             field="video.audio_codec")
    if not 0 <= cfg.video.crf <= 51 or cfg.video.gop < 1:
        raise UserInputError("crf must be in 0..51 and gop >= 1", field="video")
    _check_taxonomy(cfg.taxonomy)
    ho = cfg.human_object
    if ho.size < 32 or ho.size % 16:
        raise UserInputError(f"must be a multiple of 16 and >= 32, got {ho.size}", field="human_object.size")
    for key in ("camera_shake", "motion_noise", "colour_jitter"):
        if getattr(ho, key) < 0:
            raise UserInputError("must be >= 0", field=f"human_object.{key}")
    if not 0 <= ho.distractors <= 6:
        raise UserInputError(f"must be in 0..6, got {ho.distractors}", field="human_object.distractors")
    op = cfg.oscc_pnr
    op.clips.check("oscc_pnr.clips")
    if op.clips_per_video < 1:
        raise UserInputError("must be >= 1", field="oscc_pnr.clips_per_video")
    for key in ("p_change_verb", "p_change_given_change_verb", "p_change_given_other_verb", "change_strength"):
        _prob(getattr(op, key), f"oscc_pnr.{key}")
    _range(op.pnr_range, "oscc_pnr.pnr_range", lo=0.1)
    if op.pnr_range[1] > 0.85:
        raise UserInputError("the contact must leave time for the action: high <= 0.85", field="oscc_pnr.pnr_range")
    has_change = [v.change != "none" for v in cfg.taxonomy.verbs]
    if (op.p_change_verb > 0 and not any(has_change)) or (op.p_change_verb < 1 and all(has_change)):
        raise UserInputError("the taxonomy lacks verbs of the kind p_change_verb asks for", field="oscc_pnr.p_change_verb")
    al = cfg.ar_lta
    al.clips.check("ar_lta.clips")
    _range(al.actions_per_clip, "ar_lta.actions_per_clip", lo=MIN_LTA_ACTIONS)
    _range(al.action_frames, "ar_lta.action_frames", lo=64)
    _prob(al.determinism, "ar_lta.determinism")
    hh = cfg.human_human
    hh.clips.check("human_human.clips")
    if hh.clip_seconds < 10:
        raise UserInputError(f"must be >= 10 s, got {hh.clip_seconds}", field="human_human.clip_seconds")
    if hh.width < 96 or hh.height < 64 or hh.width % 16 or hh.height % 16:
        raise UserInputError("width >= 96 and height >= 64, both multiples of 16", field="human_human.width")
    _range(hh.face_height, "human_human.face_height", lo=16)
    if hh.face_height[1] > hh.height * 0.6:
        raise UserInputError(f"faces must fit the frame: max <= {hh.height * 0.6:.0f}", field="human_human.face_height")
    if len(hh.speaker_weights) != 3 or min(hh.speaker_weights) < 0 or hh.speaker_weights[0] <= 0:
        raise UserInputError("must be 3 weights >= 0 [visible, wearer, off-screen] with visible > 0",
                             field="human_human.speaker_weights")
    _range(hh.utterance_seconds, "human_human.utterance_seconds", lo=0.5)
    if hh.utterance_seconds[1] > 5.0:
        raise UserInputError("utterances must be <= 5 s (150 frames, the TTM split length)",
                             field="human_human.utterance_seconds")
    _range(hh.gap_seconds, "human_human.gap_seconds", lo=0.0)
    for key in ("p_address_wearer", "p_look_when_wearer_speaks", "p_look_idle"):
        _prob(getattr(hh, key), f"human_human.{key}")
    _prob(cfg.lam.gaze_shift, "lam.gaze_shift")
    _prob(cfg.lam.near_miss, "lam.near_miss")
    _prob(cfg.asd.idle_mouth, "asd.idle_mouth")
    if not -60 <= cfg.asd.noise_db <= 20:
        raise UserInputError(f"must be in -60..20 dB, got {cfg.asd.noise_db}", field="asd.noise_db")
    for key in ("train_fraction", "label_noise", "listener_segments"):
        _prob(getattr(cfg.ttm, key), f"ttm.{key}")
    if cfg.ttm.label_noise >= 0.5:
        raise UserInputError("must be < 0.5 (else labels carry no signal)", field="ttm.label_noise")
