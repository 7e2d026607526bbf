"""The TTM log-mel front-end's constants and computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tests.golden import load_manifest, requires_goldens

from egot2.backbones.audio import LogMelSpectrogram, mel_filterbank


def _summary(x: torch.Tensor) -> tuple[float, float]:
    a = x.double().numpy()
    return float(a.mean()), float(a.std())


@requires_goldens
def test_fixed_buffers_match_the_manifest_summaries() -> None:
    fixed = load_manifest("ttm")["fixed_buffer_values"]
    front = LogMelSpectrogram()
    ours = {
        "audio_encoder.torchfb.0.flipped_filter": front.flipped_filter,
        "audio_encoder.torchfb.1.spectrogram.window": front.window,
        "audio_encoder.torchfb.1.mel_scale.fb": front.mel_fb,
    }
    for key, tensor in ours.items():
        ref = fixed[key]
        assert list(tensor.shape) == ref["shape"], key
        mean, std = _summary(tensor)
        assert mean == pytest.approx(ref["mean"], rel=1e-5, abs=1e-7), key
        assert std == pytest.approx(ref["std"], rel=1e-5), key
        np.testing.assert_allclose(tensor.flatten()[:8].numpy(), ref["first8"], rtol=1e-6, atol=1e-7)


def test_mel_filters_are_htk_triangles() -> None:
    fb = mel_filterbank(257, 64, 16000)
    assert fb.shape == (257, 64)
    assert fb.min() >= 0 and fb.max() <= 1
    freqs = np.linspace(0, 8000, 257)
    mel_edges = np.linspace(0, 2595 * math.log10(1 + 8000 / 700), 66)
    hz = 700 * (10 ** (mel_edges / 2595) - 1)
    # band 10 peaks (value 1) at its centre frequency hz[11] and vanishes outside (hz[10], hz[12])
    band = fb[:, 10].numpy()
    outside = (freqs <= hz[10]) | (freqs >= hz[12])
    assert np.all(band[outside] == 0)
    k = int(np.argmin(np.abs(freqs - hz[11])))
    expected = min((freqs[k] - hz[10]) / (hz[11] - hz[10]), (hz[12] - freqs[k]) / (hz[12] - hz[11]))
    assert band[k] == pytest.approx(expected, rel=1e-5)


def test_log_mel_of_a_tone_peaks_in_its_band() -> None:
    t = torch.arange(8000) / 16000
    wav = torch.sin(2 * math.pi * 1000 * t).unsqueeze(0)
    mel = LogMelSpectrogram()(wav)
    assert mel.shape == (1, 64, 51)
    fb = mel_filterbank(257, 64, 16000)
    band = int(fb[round(1000 / 8000 * 256)].argmax())
    assert int(mel[0, :, 25].argmax()) == band
