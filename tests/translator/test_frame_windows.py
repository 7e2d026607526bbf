"""Per-frame primaries translated in frame windows: cutting and merging, and that a windowed model
computes exactly what the same model computes on each window on its own."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from egot2.config import TranslatorConfig
from egot2.errors import UserInputError
from egot2.generalist import EgoT2G
from egot2.tasks import get_task
from egot2.tasks.losses import IGNORE_INDEX
from egot2.translator import EgoT2S, InputStream
from egot2.translator.frame_windows import split_windows

LAYOUT = [InputStream("asd", "frames", None, 6), InputStream("lam", "frames", None, 5),
          InputStream("ttm", "audio", 1, 4)]
CFG = TranslatorConfig(dim=16, layers=2, heads=2, ffn=32, dropout=0.0, positions="task-sinusoidal")


def _batch(lengths: list[int], seed: int = 0) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    b, t = len(lengths), max(lengths)
    mask = torch.arange(t)[None] < torch.tensor(lengths)[:, None]  # (B, T)
    streams = {"asd.frames": torch.randn(b, t, 6, generator=g), "lam.frames": torch.randn(b, t, 5, generator=g),
               "ttm.audio": torch.randn(b, 1, 4, generator=g)}
    return streams, {"asd.frames": mask, "lam.frames": mask.clone()}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 23), min_size=1, max_size=5), st.integers(1, 9))
def test_split_then_merge_gives_back_every_real_frame(lengths: list[int], window: int) -> None:
    streams, masks = _batch(lengths)
    cut = split_windows(LAYOUT, streams, masks, window)
    if max(lengths) <= window:
        assert cut is None
        return
    assert cut is not None
    ws, wm, index = cut
    # one window per started block of real frames, none made only of padding
    assert len(index.clip) == sum(-(-n // window) for n in lengths)
    assert ws["asd.frames"].shape == (len(index.clip), window, 6)
    assert ws["ttm.audio"].shape == (len(index.clip), 1, 4)
    assert all(torch.equal(ws["ttm.audio"][i], streams["ttm.audio"][c]) for i, c in enumerate(index.clip.tolist()))
    back = index.merge(ws["asd.frames"])
    real = masks["asd.frames"][..., None]
    assert torch.equal(back * real, streams["asd.frames"] * real)
    assert torch.equal(index.merge(wm["asd.frames"].long()).bool(), masks["asd.frames"])


def _asd_model(window: int) -> EgoT2S:
    torch.manual_seed(0)
    return EgoT2S(get_task("asd"), LAYOUT, dataclasses.replace(CFG, frame_window=window)).eval()


def test_windowed_translator_equals_the_model_on_each_window() -> None:
    streams, masks = _batch([11, 4, 8])
    windowed = _asd_model(4)
    whole = _asd_model(0)
    whole.load_state_dict(windowed.state_dict())
    logits = windowed(streams, masks)["logits"]  # (B, T, 2)
    assert logits.shape == (3, 11, 2)
    for b, n in enumerate([11, 4, 8]):
        for start in range(0, n, 4):
            stop = min(start + 4, n)
            piece = {k: (v[b:b + 1, start:stop] if k != "ttm.audio" else v[b:b + 1]) for k, v in streams.items()}
            expected = whole(piece)["logits"][0]
            assert torch.allclose(logits[b, start:stop], expected, atol=1e-5), (b, start)
    # a window as long as the clips changes nothing
    assert torch.allclose(_asd_model(11)(streams, masks)["logits"], whole(streams, masks)["logits"], atol=1e-6)


def test_windowed_attention_names_each_windows_clip() -> None:
    streams, masks = _batch([9, 3])
    out = _asd_model(4)(streams, masks, return_attention=True)
    assert out["window_clip"].tolist() == [0, 0, 0, 1]
    n = 4 + 4 + 1  # one window: 4 frames of two per-frame streams + the audio token
    assert out["attention"].shape == (2, 4, 2, n, n)


def _hh(window: int) -> EgoT2G:
    torch.manual_seed(0)
    tasks = [get_task(t) for t in ("lam", "ttm", "asd")]
    return EgoT2G(tasks, LAYOUT, dataclasses.replace(CFG, frame_window=window), decoder_layers=2, max_len=16).eval()


def test_windowed_generation_equals_generating_each_window() -> None:
    streams, masks = _batch([10, 6], seed=1)
    model = _hh(4)
    whole = _hh(0)
    whole.load_state_dict(model.state_dict())
    gen = model.generate(streams, "asd", masks, frames=10)
    assert gen.tokens.shape == (2, 11) and gen.logits.shape[:2] == (2, 11)
    assert gen.window_clip is not None and gen.window_clip.tolist() == [0, 0, 0, 1, 1]
    for b, n in enumerate([10, 6]):
        for start in range(0, n, 4):
            stop = min(start + 4, n)
            piece = {k: (v[b:b + 1, start:start + 4] if k != "ttm.audio" else v[b:b + 1]) for k, v in streams.items()}
            pmask = {k: masks[k][b:b + 1, start:start + 4] for k in masks}
            one = whole.generate(piece, "asd", pmask, frames=pmask["asd.frames"].shape[1])
            assert torch.equal(gen.tokens[b, start:stop], one.tokens[0, : stop - start])
            assert torch.allclose(gen.logits[b, start:stop], one.logits[0, : stop - start], atol=1e-5)
            assert torch.equal(gen.labels["label"][b, start:stop], one.labels["label"][0, : stop - start])


def test_windowed_loss_is_the_loss_of_the_cut_clips() -> None:
    streams, masks = _batch([9, 5], seed=2)
    labels = torch.randint(0, 2, (2, 9), generator=torch.Generator().manual_seed(3))
    labels[1, 5:] = IGNORE_INDEX
    model = _hh(4)
    cut = model.windows("asd", streams, masks)
    assert cut is not None
    ws, wm, index = cut
    expected = model.loss(ws, wm, model.tokenizers["asd"].encode({"label": index.split(labels, IGNORE_INDEX)}, "asd"))
    assert torch.allclose(model.task_loss("asd", streams, masks, {"label": labels}), expected)
    # the cut labels are the clip's labels, window by window
    assert index.split(labels, IGNORE_INDEX)[2].tolist() == [labels[0, 8].item()] + [IGNORE_INDEX] * 3
    # clip-level tasks are never cut
    assert model.windows("ttm", streams, masks) is None


def test_frame_window_must_not_be_negative() -> None:
    with pytest.raises(UserInputError, match="frame_window"):
        TranslatorConfig(frame_window=-1)
