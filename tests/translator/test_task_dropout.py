"""``translator.task_dropout``: whole tasks hidden from clips in training, never in evaluation."""

from __future__ import annotations

import pytest
import torch

from egot2.config import TranslatorConfig
from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.translator import EgoT2S, InputStream
from egot2.translator.token_encoder import TokenEncoder

LAYOUT = [InputStream("oscc", "tokens", 4, 6), InputStream("ar", "slow", 2, 5), InputStream("ar", "fast", 2, 3),
          InputStream("pnr", "tokens", 4, 6)]


def _streams(b: int) -> dict[str, torch.Tensor]:
    return {s.key: torch.randn(b, s.tokens, s.dim) for s in LAYOUT}


def _encoder(p: float) -> TokenEncoder:
    return TokenEncoder(LAYOUT, TranslatorConfig(dim=8, layers=1, heads=2, ffn=8, dropout=0.0, task_dropout=p))


def test_whole_tasks_are_hidden_at_the_rate_asked_and_never_all() -> None:
    torch.manual_seed(0)
    enc = _encoder(0.5).train()
    _, mask, _ = enc(_streams(4000))
    assert mask is not None and mask.shape == (4000, 12)
    oscc, ar, pnr = mask[:, :4], mask[:, 4:8], mask[:, 8:]
    for part in (oscc, ar, pnr):  # a task is hidden whole: all its tokens (both AR streams) or none
        assert bool((part.all(dim=1) | ~part.any(dim=1)).all())
    kept = torch.stack([oscc[:, 0], ar[:, 0], pnr[:, 0]], dim=1)  # (B, tasks)
    assert bool(kept.any(dim=1).all())  # every clip keeps at least one task
    # P(hidden) = 0.5, but a clip that lost all three gets one back: 0.5 - 0.125 / 3
    assert abs(float((~kept).float().mean()) - (0.5 - 0.125 / 3)) < 0.02


def test_evaluation_and_the_kept_task_see_everything() -> None:
    torch.manual_seed(0)
    enc = _encoder(0.9)
    streams = _streams(64)
    z, mask, _ = enc.eval()(streams)
    assert mask is None  # nothing padded, nothing hidden
    _, mask, _ = enc.train()(streams, keep_task="oscc")
    assert mask is not None and bool(mask[:, :4].all()) and not bool(mask[:, 4:].all())
    with torch.no_grad():
        torch.testing.assert_close(enc.eval()(streams)[0], z)


def test_a_hidden_task_does_not_change_the_prediction() -> None:
    """With OSCC and PNR hidden from a clip, changing their tokens changes nothing the pooled head sees."""
    torch.manual_seed(1)
    cfg = TranslatorConfig(dim=8, layers=1, heads=2, ffn=8, dropout=0.0, task_dropout=0.6)
    model = EgoT2S(get_task("oscc"), LAYOUT, cfg).train()
    streams = _streams(200)
    torch.manual_seed(5)
    a = model(streams)["logits"]
    changed = dict(streams, **{"oscc.tokens": torch.randn(200, 4, 6), "pnr.tokens": torch.randn(200, 4, 6)})
    torch.manual_seed(5)  # the same tasks hidden
    model.train()
    b = model(changed)["logits"]
    torch.manual_seed(5)
    hidden = ~model.encoder(streams)[1][:, [0, 8]].any(dim=1)  # clips that lost both OSCC and PNR
    assert int(hidden.sum()) > 10
    torch.testing.assert_close(a[hidden], b[hidden])
    assert not torch.allclose(a[~hidden], b[~hidden])


def test_task_dropout_is_checked() -> None:
    with pytest.raises(UserInputError, match="task_dropout"):
        TranslatorConfig(task_dropout=1.0)


def test_a_task_with_only_padding_is_never_the_one_kept() -> None:
    """A clip whose only real tokens belong to one task keeps that task, however the draw falls."""
    torch.manual_seed(3)
    enc = _encoder(0.9).train()
    streams = _streams(500)
    masks = {s.key: torch.zeros(500, s.tokens, dtype=torch.bool) for s in LAYOUT}
    masks["pnr.tokens"][:] = True  # OSCC and AR: padding only
    _, mask, _ = enc(streams, masks)
    assert mask is not None and bool(mask[:, 8:].all()) and not bool(mask[:, :8].any())
    z, _, _ = enc(streams, masks)
    assert bool(torch.isfinite(z).all())
