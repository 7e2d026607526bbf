"""EgoT2-s: shapes over a grid of layouts and every output kind, attention, gradients, masks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from egot2.config import TranslatorConfig
from egot2.tasks import OutputKind, OutputSpec, StreamSpec, TaskSpec, register_task, unregister_task
from egot2.tasks.losses import task_loss
from egot2.translator import EgoT2S, InputStream

OUTPUTS = {
    "keyframe": OutputSpec(OutputKind.KEYFRAME, num_classes=16),
    "binary": OutputSpec(OutputKind.BINARY, num_classes=2),
    "verb_noun": OutputSpec(OutputKind.VERB_NOUN, num_verbs=7, num_nouns=5),
    "sequence": OutputSpec(OutputKind.SEQUENCE, num_verbs=7, num_nouns=5, steps=4),
    "frame_binary": OutputSpec(OutputKind.FRAME_BINARY, num_classes=2),
}
EXPECTED = {
    "keyframe": {"logits": (16,)},
    "binary": {"logits": (2,)},
    "verb_noun": {"verb": (7,), "noun": (5,)},
    "sequence": {"verb": (4, 7), "noun": (4, 5)},
}


@pytest.fixture(params=list(OUTPUTS))
def kind_task(request: pytest.FixtureRequest) -> Iterator[tuple[str, TaskSpec]]:
    kind = request.param
    spec = TaskSpec(
        name=f"toy_{kind}", cluster="human-human", modalities=("video",), clip_s=1.0, fps=10.0, window_s=None,
        streams=(StreamSpec("frames", None, 12),), output=OUTPUTS[kind],
    )
    register_task(spec)
    yield kind, spec
    unregister_task(spec.name)


def _layout(primary: str, k: int, t: int, d: int) -> list[InputStream]:
    out = [InputStream(primary, "frames", t, d)]
    out += [InputStream(f"aux{i}", "tokens", t + i, d * (i + 1)) for i in range(k - 1)]
    return out


@pytest.mark.parametrize(("k", "t", "d", "positions"), list(itertools.product([1, 3], [1, 5], [4, 16],
                                                                         ["learned", "task-sinusoidal"])))
def test_shapes_grid(kind_task: tuple[str, TaskSpec], k: int, t: int, d: int, positions: str) -> None:
    kind, spec = kind_task
    layout = _layout(spec.name, k, t, d)
    cfg = TranslatorConfig(dim=16, layers=2, heads=4, ffn=32, positions=positions)
    # a keyframe primary with the paper's pooled head takes any token count (the per-frame head: below)
    model = EgoT2S(spec, layout, cfg, keyframe_head="pooled")
    b = 3
    out = model({s.key: torch.randn(b, s.tokens, s.dim) for s in layout}, return_attention=True)
    n = sum(s.tokens for s in layout)
    assert out["attention"].shape == (2, b, 4, n, n)
    if kind == "frame_binary":
        assert out["logits"].shape == (b, t, 2)  # one prediction per primary token
    else:
        for key, shape in EXPECTED[kind].items():
            assert out[key].shape == (b, *shape)
    assert all(torch.isfinite(v).all() for v in out.values())


def _ttm_like() -> tuple[TaskSpec, list[InputStream]]:
    from egot2.tasks import get_task

    layout = [InputStream("lam", "frames", None, 8), InputStream("ttm", "frames", None, 8),
              InputStream("asd", "frames", None, 8)]
    return get_task("ttm"), layout


def test_attention_rows_sum_to_one_with_padding() -> None:
    spec, layout = _ttm_like()
    model = EgoT2S(spec, layout, TranslatorConfig(dim=16, layers=3, heads=2, ffn=16, positions="task-sinusoidal"))
    model.eval()
    streams = {s.key: torch.randn(2, 6, 8) for s in layout}
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False  # the second clip has 4 real frames
    masks = {s.key: mask for s in layout}
    att = model(streams, masks, return_attention=True)["attention"]  # (L, B, H, N, N)
    torch.testing.assert_close(att.sum(-1), torch.ones(att.shape[:-1]))
    padded_keys = torch.cat([~mask[1]] * 3)  # positions of padding in the concatenated sequence
    assert att[:, 1, :, :, padded_keys].abs().max().item() == 0.0


def test_padding_does_not_change_prediction() -> None:
    """A clip padded with junk frames gives the same output as the same clip unpadded."""
    spec, layout = _ttm_like()
    model = EgoT2S(spec, layout, TranslatorConfig(dim=16, layers=2, heads=2, ffn=16, positions="task-sinusoidal"))
    model.eval()
    short = {s.key: torch.randn(1, 4, 8) for s in layout}
    padded = {k: torch.cat([v, 100 * torch.randn(1, 3, 8)], dim=1) for k, v in short.items()}
    mask = torch.tensor([[True] * 4 + [False] * 3])
    with torch.no_grad():
        a = model(short)["logits"]
        b = model(padded, {k: mask for k in padded})["logits"]
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_gradients_reach_exactly_the_translator() -> None:
    spec, layout = _ttm_like()
    model = EgoT2S(spec, layout, TranslatorConfig(dim=16, layers=2, heads=2, ffn=16, positions="task-sinusoidal"))
    frozen = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8))  # stands in for a frozen TS model
    for p in frozen.parameters():
        p.requires_grad_(False)
    frozen.eval()
    x = torch.randn(4 * 6, 5)
    feats = frozen(x).view(4, 6, 8)  # (B, T, D)
    loss = task_loss(spec, model({s.key: feats for s in layout}), {"label": torch.tensor([0, 1, 1, 0])})
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    assert all(p.grad is None for p in frozen.parameters())
    assert not feats.requires_grad


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch(norm_first: bool) -> None:
    """Same weights, same function as torch.nn.TransformerEncoderLayer (post-LN and pre-LN)."""
    from egot2.translator import EncoderLayer

    ours = EncoderLayer(16, 4, 32, dropout=0.0, norm_first=norm_first).eval()
    ref = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first).eval()
    missing = ref.load_state_dict(ours.state_dict(), strict=True)
    assert not missing.missing_keys
    x = torch.randn(2, 7, 16)
    pad = torch.zeros(2, 7, dtype=torch.bool)
    pad[0, 5:] = True
    torch.testing.assert_close(ours(x, pad, need_weights=True)[0], ref(x, src_key_padding_mask=pad))


def test_learned_positions_need_fixed_lengths() -> None:
    from egot2.errors import UserInputError

    spec, layout = _ttm_like()
    with pytest.raises(UserInputError, match="task-sinusoidal"):
        EgoT2S(spec, layout, TranslatorConfig(dim=16, heads=2, positions="learned"))


def test_wrong_stream_shape_is_clear() -> None:
    from egot2.errors import UserInputError

    spec, layout = _ttm_like()
    model = EgoT2S(spec, layout, TranslatorConfig(dim=16, heads=2, positions="task-sinusoidal"))
    streams = {s.key: torch.randn(2, 5, 8) for s in layout}
    streams["asd.frames"] = torch.randn(2, 5, 9)
    with pytest.raises(UserInputError, match=r"asd.frames.*\(B, T, 8\)"):
        model(streams)
    del streams["asd.frames"]
    with pytest.raises(UserInputError, match="missing token streams"):
        model(streams)


def test_pool_streams_ablation_one_token_per_stream() -> None:
    from egot2.tasks import get_task

    layout = [InputStream("ttm", "frames", None, 8), InputStream("lam", "frames", None, 8)]
    cfg = TranslatorConfig(dim=16, layers=1, heads=2, ffn=16, pool_streams=True)  # learned positions: 2 tokens
    model = EgoT2S(get_task("ttm"), layout, cfg).eval()
    streams = {s.key: torch.randn(2, 7, 8) for s in layout}
    out = model(streams, return_attention=True)
    assert out["attention"].shape[-1] == 2
    # Pooling makes the prediction blind to the order of frames.
    shuffled = {k: v[:, torch.randperm(7)] for k, v in streams.items()}
    torch.testing.assert_close(model(shuffled)["logits"], out["logits"])
    from egot2.errors import UserInputError

    with pytest.raises(UserInputError, match="per-frame"):
        EgoT2S(get_task("asd"), [InputStream("asd", "frames", None, 8)], cfg)


def test_per_frame_keyframe_head_reads_the_primary_positions() -> None:
    from egot2.errors import UserInputError
    from egot2.tasks import get_task

    layout = [InputStream("pnr", "tokens", 16, 8), InputStream("oscc", "tokens", 16, 8), InputStream("ar", "slow", 8, 4)]
    cfg = TranslatorConfig(dim=16, layers=1, heads=2, ffn=16, dropout=0.0)
    model = EgoT2S(get_task("pnr"), layout, cfg, keyframe_head="per-frame").eval()
    streams = {s.key: torch.randn(2, s.tokens, s.dim) for s in layout}
    z = {}
    model.head.register_forward_hook(lambda m, args, out: z.update(x=args[0], out=out))
    logits = model(streams)["logits"]
    assert logits.shape == (2, 16) and z["x"].shape == (2, 16, 16)  # only PNR's 16 positions reach the head
    encoded = model.encoder(streams)[0]  # (2, 40, 16): PNR's tokens come first
    torch.testing.assert_close(z["x"], encoded[:, :16])
    torch.testing.assert_close(logits, model.head.fc(model.head.norm(encoded[:, :16])).squeeze(-1))
    with pytest.raises(UserInputError, match="pool_streams"):
        EgoT2S(get_task("pnr"), layout, TranslatorConfig(dim=16, layers=1, heads=2, ffn=16, pool_streams=True),
               keyframe_head="per-frame")
    short = [InputStream("pnr", "tokens", 12, 8)]  # 12 tokens: not the 16 frames PNR scores
    with pytest.raises(UserInputError, match="scores 16 frames.*12 tokens"):
        EgoT2S(get_task("pnr"), short, cfg, keyframe_head="per-frame")({"pnr.tokens": torch.randn(1, 12, 8)})


def test_fast_dropout_keeps_the_expectation() -> None:
    from egot2.translator.encoder import FastDropout

    drop = FastDropout(0.3).train()
    x = torch.ones(200_000)
    y = drop(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01 and abs(y.mean().item() - 1.0) < 0.02  # inverted scaling by 1 / 0.7
    assert torch.equal(drop.eval()(x), x)
