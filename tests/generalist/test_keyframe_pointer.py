"""EgoT2-g's keyframe pointer: ``frame:k`` is scored from PNR's own frame token k in the memory."""

from __future__ import annotations

import math

import pytest
import torch

from egot2.config import TranslatorConfig
from egot2.config.schema import GeneralistConfig
from egot2.errors import UserInputError
from egot2.generalist import EgoT2G
from egot2.tasks import get_task
from egot2.translator import InputStream

LAYOUT = [InputStream("pnr", "tokens", 16, 8), InputStream("oscc", "tokens", 16, 8), InputStream("ar", "slow", 2, 6)]
CFG = TranslatorConfig(dim=16, layers=1, heads=2, ffn=32, dropout=0.0, max_tokens=34)


def _model(answers: str) -> EgoT2G:
    torch.manual_seed(0)
    tasks = [get_task(t) for t in ("pnr", "oscc", "ar")]
    return EgoT2G(tasks, LAYOUT, CFG, decoder_layers=1, max_len=8, keyframe_answers=answers).eval()


def _streams(b: int = 3) -> dict[str, torch.Tensor]:
    return {s.key: torch.randn(b, s.tokens, s.dim) for s in LAYOUT}


def test_the_frame_logits_are_read_off_the_frame_tokens() -> None:
    model = _model("pointer")
    streams = _streams()
    memory, _, _ = model.encoder(streams)
    frames = model.frame_tokens(memory, streams)
    assert frames is not None and torch.equal(frames, memory[:, :16])  # PNR's segment, first in the layout
    dec = model.decoder
    seq = torch.full((3, 1), model.tokenizers["pnr"].prompt_ids["pnr"])
    logits, _ = dec(seq, memory, frames=frames)  # (3, 1, V)
    x = dec._embed(seq, 0)
    for layer in dec.layers:
        x, _ = layer(x, layer.self_attn.project_kv(x), layer.cross_attn.project_kv(memory), None)
    expected = dec.point_query(x) @ dec.point_key(frames).transpose(1, 2) / math.sqrt(16)  # (3, 1, 16)
    ids = model.tokenizers["pnr"].values
    torch.testing.assert_close(logits[..., ids], expected)
    others = [i for i in range(len(model.vocab)) if i not in ids]
    torch.testing.assert_close(logits[..., others], dec.out(x)[..., others])  # the rest: vocabulary rows


def test_cached_generation_equals_recomputation_with_the_pointer() -> None:
    model = _model("pointer")
    streams = _streams()
    a = model.generate(streams, "pnr", use_cache=True)
    b = model.generate(streams, "pnr", use_cache=False)
    assert torch.equal(a.tokens, b.tokens)
    torch.testing.assert_close(a.logits[:, 0, model.tokenizers["pnr"].values],
                               b.logits[:, 0, model.tokenizers["pnr"].values])


def test_without_the_frame_stream_the_vocabulary_answers() -> None:
    model = _model("pointer")
    streams = {"ar.slow": torch.randn(2, 2, 6)}
    memory, _, _ = model.encoder(streams)
    assert model.frame_tokens(memory, streams) is None
    vocab = _model("vocabulary")
    assert vocab.frame_tokens(memory, streams) is None and not vocab.decoder.pointer_ids
    assert sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in vocab.parameters()) == 2 * (16 * 16 + 16)


def test_the_pointer_learns_a_planted_keyframe_faster_than_vocabulary_rows() -> None:
    """The keyframe is the frame whose token carries a marker: the pointer finds it from the token
    itself; the vocabulary rows must learn each of 16 positions separately."""
    def batch(n: int, g: torch.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        s = {k: torch.randn(n, *v.shape[1:], generator=g) for k, v in _streams(1).items()}
        label = torch.randint(16, (n,), generator=g)
        s["pnr.tokens"][torch.arange(n), label, 0] += 4.0
        return s, label

    accs = {}
    for answers in ("pointer", "vocabulary"):
        model = _model(answers).train()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        g = torch.Generator().manual_seed(1)
        for _ in range(60):
            s, label = batch(32, g)
            loss = model.task_loss("pnr", s, None, {"label": label})
            opt.zero_grad()
            loss.backward()
            opt.step()
        s, label = batch(256, torch.Generator().manual_seed(99))
        pred = model.eval().generate(s, "pnr").labels["label"]
        accs[answers] = float((pred == label).float().mean())
    assert accs["pointer"] > 0.8 and accs["pointer"] > accs["vocabulary"] + 0.2, accs


def test_keyframe_answers_is_checked() -> None:
    with pytest.raises(UserInputError, match="keyframe_answers"):
        GeneralistConfig(keyframe_answers="rows")
