"""The Stage II benchmark's pieces on tiny inputs (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` lives at the repository root, beside `src`
    sys.path.insert(0, str(ROOT))

from bench.stage2 import BATCH, ONLINE, SEGMENT_FRAMES, online_streams, peak_rss_mb, ts_inputs  # noqa: E402

from egot2.backbones import build_ts_model  # noqa: E402


@pytest.mark.parametrize("primary", ["ttm", "pnr"])
def test_online_streams_have_the_layout_shapes(primary: str) -> None:
    models = {t: build_ts_model(t, "tiny").eval() for t in ONLINE[primary]}
    keys = ["lam.frames", "ttm.frames", "asd.frames"] if primary == "ttm" else \
        ["pnr.tokens", "oscc.tokens", "ar.slow", "ar.fast"]
    streams = online_streams(models, ts_inputs(primary, BATCH[primary], "synth"), keys, BATCH[primary])
    assert list(streams) == keys
    tokens = {"ttm": [SEGMENT_FRAMES] * 3, "pnr": [16, 16, 8, 8]}[primary]
    assert [tuple(v.shape[:2]) for v in streams.values()] == [(BATCH[primary], t) for t in tokens]


def test_peak_rss_is_measured() -> None:
    assert 10 < peak_rss_mb() < 1e6
