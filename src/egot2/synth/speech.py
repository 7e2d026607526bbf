"""Synthetic speech: voiced bursts at a syllable rhythm, and the mouth opening that goes with them.

Each utterance is a run of syllables (120-280 ms, short gaps). A syllable is a harmonic series on the
speaker's pitch, shaped by two random formants (its vowel) and a smooth envelope. The same envelope,
averaged over each video frame, opens the speaker's mouth, so lips and voice are aligned. Other
talkers (the wearer, an off-screen person) and low-passed noise at ``asd.noise_db`` share the track.
"""

from __future__ import annotations

import numpy as np

from egot2.synth.config import FPS, SAMPLE_RATE, WorldConfig
from egot2.synth.draw import smooth_noise
from egot2.synth.social_plan import SocialClipPlan

_HARMONICS = np.arange(1, 13, dtype=np.float64)
_SPEECH_REF_RMS = 0.12  # rms of a partner's speech; the noise level is relative to it


def _syllable(rng: np.random.Generator, f0: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(samples,) voiced waveform and (samples,) envelope of one syllable of ``n`` samples."""
    t = np.arange(n) / SAMPLE_RATE
    pitch = f0 * rng.uniform(0.9, 1.1) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    f1, f2 = rng.uniform(300, 850), rng.uniform(900, 2300)
    freqs = _HARMONICS * f0
    weights = np.exp(-((freqs - f1) / 220) ** 2) + 0.7 * np.exp(-((freqs - f2) / 320) ** 2) + 0.08
    weights[freqs > SAMPLE_RATE / 2 - 500] = 0
    wave = (weights[:, None] * np.sin(_HARMONICS[:, None] * phase[None, :])).sum(0)  # (n,)
    wave /= np.sqrt((wave**2).mean()) + 1e-9
    envelope = np.sin(np.pi * np.linspace(0, 1, n)) ** 1.5 * rng.uniform(0.6, 1.0)
    return wave * envelope, envelope


def synth_audio(plan: SocialClipPlan, cfg: WorldConfig) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The clip's audio and each partner's mouth opening.

    Returns:
        ``(audio, mouth)``: audio (samples,) float32 mono at 16 kHz covering the whole clip, and for
        each visible partner (n_frames,) float mouth opening in [0, 1] (speech envelope while they
        speak, ``asd.idle_mouth`` motion otherwise).
    """
    rng = np.random.default_rng([plan.seed, 1])
    total = int(round(plan.num_frames * SAMPLE_RATE / FPS))
    audio = np.zeros(total)
    envelopes = {p.person_id: np.zeros(total) for p in plan.partners}
    for u in plan.utterances:
        f0, gain = plan.voices[u.speaker]
        t, end = u.start / FPS, (u.end + 1) / FPS
        while True:
            dur = rng.uniform(0.12, 0.28)
            if t + dur > end:
                break
            a, n = int(t * SAMPLE_RATE), int(dur * SAMPLE_RATE)
            wave, env = _syllable(rng, f0, n)
            audio[a:a + n] += gain * _SPEECH_REF_RMS / 0.5 * wave
            if u.speaker in envelopes:
                envelopes[u.speaker][a:a + n] = env
            t += dur + rng.uniform(0.03, 0.09)
    white = rng.standard_normal(total)
    noise = np.convolve(white, np.ones(4) / 2.0, mode="same")
    noise *= _SPEECH_REF_RMS * 10 ** (cfg.asd.noise_db / 20) / (noise.std() + 1e-9)
    audio = np.clip(audio + noise, -0.98, 0.98).astype(np.float32)
    bounds = np.round(np.arange(plan.num_frames + 1) * SAMPLE_RATE / FPS).astype(int)
    mouth = {}
    for p in plan.partners:
        env = np.add.reduceat(envelopes[p.person_id], bounds[:-1]) / np.diff(bounds)  # (n_frames,)
        idle = np.clip(smooth_noise(rng, plan.num_frames, 1.0, 5), 0, None)
        idle = cfg.asd.idle_mouth * np.minimum(idle, 1.0)
        speaking = plan.speaking(p.person_id)
        mouth[p.person_id] = np.where(speaking, np.minimum(env / 0.8, 1.0), idle)
    return audio, mouth
