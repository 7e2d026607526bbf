"""The planted cues are really in the pixels and the audio."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from egot2.synth.config import FPS, SAMPLE_RATE, load_world_config
from egot2.synth.grammar import build_grammar
from egot2.synth.hoi_plan import plan_lta, plan_oscc
from egot2.synth.hoi_render import render_hoi
from egot2.synth.social_plan import WEARER, plan_social
from egot2.synth.social_render import render_social
from egot2.synth.speech import synth_audio


def _one_clip(strength: float = 0.45):
    cfg = load_world_config(overrides=[f"oscc_pnr.change_strength={strength}", "oscc_pnr.clips_per_video=1",
                                       "human_object.camera_shake=0"])
    videos, clips = plan_oscc(cfg, build_grammar(cfg), "train", 1, np.random.default_rng(3))
    return cfg, videos[0]


def _with_change(plan, changed: bool):
    action = dataclasses.replace(plan.actions[0], changed=changed)
    return dataclasses.replace(plan, actions=[action])


@pytest.mark.parametrize("verb", ["cut", "pour", "crush", "paint"])
def test_state_change_appears_at_the_contact_frame(verb: str) -> None:
    cfg, plan = _one_clip()
    v = [x.name for x in cfg.taxonomy.verbs].index(verb)
    plan = dataclasses.replace(plan, actions=[dataclasses.replace(plan.actions[0], verb=v)])
    a = np.stack(list(render_hoi(_with_change(plan, True), cfg))).astype(int)
    b = np.stack(list(render_hoi(_with_change(plan, False), cfg))).astype(int)
    contact = plan.actions[0].contact
    assert a.shape == (241, 64, 64, 3)
    assert np.array_equal(a[:contact], b[:contact])  # identical until the point of no return
    assert np.abs(a[contact + 8:] - b[contact + 8:]).sum(axis=(1, 2, 3)).min() > 0  # changed after it


def test_change_strength_scales_visibility() -> None:
    diffs = []
    for strength in (0.1, 0.9):
        cfg, plan = _one_clip(strength)
        plan = dataclasses.replace(plan, actions=[dataclasses.replace(plan.actions[0], verb=5)])  # paint: recolour
        a = np.stack(list(render_hoi(_with_change(plan, True), cfg))).astype(int)
        b = np.stack(list(render_hoi(_with_change(plan, False), cfg))).astype(int)
        diffs.append(np.abs(a - b).sum())
    assert diffs[1] > 3 * diffs[0]


def _hand_track(frames: np.ndarray) -> np.ndarray:
    """(T, 2) centroid (x, y) of skin-coloured pixels per frame."""
    skin = np.abs(frames.astype(float) - np.array([224, 172, 140])).sum(-1) < 40  # (T, H, W)
    ys, xs = np.mgrid[0:frames.shape[1], 0:frames.shape[2]]
    n = np.maximum(skin.sum((1, 2)), 1)
    return np.stack([(skin * xs).sum((1, 2)) / n, (skin * ys).sum((1, 2)) / n], 1)


def test_verbs_move_the_hand_differently() -> None:
    cfg = load_world_config(overrides=["human_object.motion_noise=0", "human_object.camera_shake=0"])
    plan = plan_lta(cfg, build_grammar(cfg), "train", 1, np.random.default_rng(0))[0][0]
    a0 = plan.actions[0]
    extent = {}
    for verb in ("cut", "wipe"):  # chop: vertical strokes; sweep: wide horizontal sweeps
        v = [x.name for x in cfg.taxonomy.verbs].index(verb)
        p = dataclasses.replace(plan, actions=[dataclasses.replace(a0, verb=v)], num_frames=a0.end)
        frames = np.stack(list(render_hoi(p, cfg)))[a0.act_start:a0.end]
        track = _hand_track(frames)
        extent[verb] = track.max(0) - track.min(0)  # (x range, y range)
    assert extent["wipe"][0] > 2 * extent["cut"][0]
    assert extent["cut"][1] > extent["wipe"][1]


def test_mouth_moves_with_the_voice_and_gaze_moves_the_face() -> None:
    cfg = load_world_config("tiny")
    plan = plan_social(cfg, "val", 1, np.random.default_rng(1))[0]
    audio, mouth = synth_audio(plan, cfg)
    assert audio.shape == (plan.num_frames * SAMPLE_RATE // FPS,) and np.abs(audio).max() <= 1
    bounds = np.round(np.arange(plan.num_frames + 1) * SAMPLE_RATE / FPS).astype(int)
    energy = np.sqrt(np.add.reduceat(audio.astype(float) ** 2, bounds[:-1]) / np.diff(bounds))  # (frames,)
    for p in plan.partners:
        speaking = plan.speaking(p.person_id)
        if speaking.sum() < 30:
            continue
        m = mouth[p.person_id]
        assert m[speaking].mean() > 2 * m[~speaking].mean()
        alone = speaking & ~np.any([plan.speaking(q) for q in (WEARER, "3", *[o.person_id for o in plan.partners
                                                                              if o is not p])], axis=0)
        assert np.corrcoef(m[alone], energy[alone])[0, 1] > 0.5  # lips follow this voice
    steady = np.convolve(plan.partners[0].looking, np.ones(5), "same") == 5
    away = np.convolve(~plan.partners[0].looking, np.ones(5), "same") == 5
    assert steady.sum() > 20 and away.sum() > 20
    offsets = {}
    for shift in (0.8, 0.0):
        flat = load_world_config("tiny", overrides=[f"lam.gaze_shift={shift}"])
        off = _pupil_offsets(np.stack(list(render_social(plan, flat, mouth))), plan.partners[0])
        offsets[shift] = (np.abs(off[steady]).mean(), np.abs(off[away]).mean())
    assert offsets[0.8][1] > 1.0 and offsets[0.8][1] > 3 * offsets[0.8][0]  # looking away shifts pupils
    assert offsets[0.0][1] == pytest.approx(offsets[0.0][0], abs=0.2)  # gaze_shift 0: no cue


def _pupil_offsets(frames: np.ndarray, p) -> np.ndarray:
    """(T,) mean horizontal offset of dark (pupil) pixels from the face centre, in pixels."""
    fw, fh = p.face_size
    out = []
    for f, img in enumerate(frames):
        cx, cy = np.round(p.face_xy[f]).astype(int)
        y0, y1, x0, x1 = cy - int(0.14 * fh), cy + int(0.03 * fh), cx - int(0.36 * fw), cx + int(0.36 * fw)
        dark = (img[y0:y1, x0:x1].astype(float).mean(-1) < 60).astype(float)
        out.append((dark * (np.arange(x0, x1) - cx)).sum() / max(dark.sum(), 1))
    return np.array(out)


def test_near_miss_look_aways_turn_a_tenth_as_far() -> None:
    import dataclasses

    import numpy as np

    from egot2.synth import load_world_config
    from egot2.synth.social_plan import plan_social

    def aways(near_miss: float) -> tuple[np.ndarray, list]:
        cfg = load_world_config("tiny")
        cfg = dataclasses.replace(cfg, lam=dataclasses.replace(cfg.lam, near_miss=near_miss))
        plans = plan_social(cfg, "train", 2, np.random.default_rng(0))
        idle = np.concatenate([np.abs(p.away[~p.looking]) for plan in plans for p in plan.partners])
        return idle, plans

    none, _ = aways(0.0)
    assert np.all(none == 1.0)
    every, plans = aways(1.0)
    near = np.isclose(every, 0.1)
    assert np.all(near | (every == 1.0)) and near.mean() > 0.3
    # utterances keep full look-aways: a speaker turns to the partner they address
    for plan in plans:
        for p in plan.partners:
            for u in plan.utterances:
                if u.speaker == p.person_id:
                    assert np.all(np.abs(p.away[u.start:u.end + 1]) == 1.0)
