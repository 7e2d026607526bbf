"""Token layouts follow the paper's rules (Sec. 4.1) and the authors' configurations."""

from __future__ import annotations

import pytest

from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.translator import default_aux, plan_streams


def test_default_aux_paper_rule() -> None:
    assert default_aux(get_task("pnr")) == ["oscc", "ar"]  # LTA's 16 s span is longer than 8 s
    assert default_aux(get_task("oscc")) == ["pnr", "ar"]
    assert default_aux(get_task("ar")) == ["pnr", "oscc"]
    assert default_aux(get_task("lta")) == ["pnr", "oscc", "ar"]
    assert default_aux(get_task("ttm")) == ["lam", "asd"]
    assert default_aux(get_task("asd")) == ["lam", "ttm"]


def test_pnr_layout_48_tokens() -> None:
    layout = plan_streams("pnr")
    assert [(s.key, s.tokens, s.dim) for s in layout] == [
        ("pnr.tokens", 16, 8192), ("oscc.tokens", 16, 8192), ("ar.slow", 8, 2048), ("ar.fast", 8, 256)]


def test_sliding_windows_concatenate_in_time() -> None:
    layout = plan_streams("pnr", windows={"ar": 3})
    assert {s.key: s.tokens for s in layout}["ar.slow"] == 24


def test_lta_one_token_per_clip_per_task() -> None:
    layout = plan_streams("lta")
    assert [(s.key, s.tokens, s.dim) for s in layout] == [
        ("lta.clips", 2, 2048), ("pnr.clip", 2, 8192), ("oscc.clip", 2, 8192), ("ar.clip", 2, 2304)]


def test_multimodal_primary_gets_every_computable_stream() -> None:
    keys = [s.key for s in plan_streams("ttm")]
    assert keys == ["ttm.frames", "ttm.audio", "lam.frames", "asd.frames"]


def test_order_and_stream_selection() -> None:
    layout = plan_streams("asd", ["ttm", "lam"], streams=["asd.frames", "ttm.frames", "lam.frames"])
    assert [s.key for s in layout] == ["asd.frames", "ttm.frames", "lam.frames"]
    layout = plan_streams("ttm", ["lam", "asd"], order=["lam", "ttm", "asd"], streams=None)
    assert [s.task for s in layout][0] == "lam"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"primary": "lam"}, "cannot be a primary"),
        ({"primary": "pnr", "aux": ["lta"]}, "span rule"),
        ({"primary": "pnr", "aux": ["pnr"]}, "also listed as auxiliary"),
        ({"primary": "pnr", "aux": ["ar"], "order": ["ar"]}, "must list exactly"),
        ({"primary": "pnr", "aux": ["ar"], "streams": ["ar.medium"]}, "unknown stream"),
        ({"primary": "pnr", "aux": ["ar"], "streams": ["ar.slow"]}, "no stream of the primary"),
        ({"primary": "pnr", "aux": ["ar"], "dims": {"oscc.tokens": 3}}, "unknown stream"),
        ({"primary": "pnr", "aux": ["zzz"]}, "unknown task 'zzz'"),
    ],
)
def test_bad_layouts(kwargs: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        plan_streams(**kwargs)


def test_lta_pooled_width_is_what_the_full_size_models_give_on_video_only_clips() -> None:
    """A social model on LTA's video-only clips gives only its video pathway: ASD's pooled token is its
    visual width (128 at full size, not its 256-d audio-visual clip feature)."""
    import torch

    from egot2.backbones import build_ts_model

    layout = {s.key: s.dim for s in plan_streams("lta", ["ar", "lam", "ttm", "asd"])}
    for t in ("asd", "ttm", "lam"):
        model = build_ts_model(t, "full").eval()
        frames = 7 if t == "lam" else 4
        video = torch.rand(1, frames, 112, 112) * 255 if t == "asd" else torch.rand(1, frames, 3, 224, 224)
        with torch.no_grad():
            out = model.tokens({"video": video})
        assert layout[f"{t}.clip"] == sum(v.shape[-1] for v in out.values()), t
    assert layout["asd.clip"] == 128 and get_task("asd").clip_dim == 256
