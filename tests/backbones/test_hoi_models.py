"""The human-object TS models (PNR, OSCC, AR, LTA): sizes, shapes, losses, training, sampling, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from egot2.backbones import build_ts_model
from egot2.backbones.lta import LTAModel, build_lta
from egot2.backbones.resnet3d import build_pnr, grid_tokens
from egot2.backbones.slowfast import build_ar
from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.utils.params import count_parameters

TASKS = ("pnr", "oscc", "ar", "lta")
# released counts (total, trainable) and the paper's figures in millions (trainable, total)
RELEASED = {
    "pnr": (32_193_985, 32_193_985),
    "oscc": (32_202_178, 32_202_178),
    "ar": (63_271_833, 63_271_833),
    "lta": (242_048_668, 180_143_700),
}
PAPER_M = {"pnr": (32.2, 32.2), "oscc": (32.2, 32.2), "ar": (63.3, 63.3), "lta": (180.0, 242.0)}
LOGIT_SHAPES = {
    "pnr": {"logits": (16,)},
    "oscc": {"logits": (2,)},
    "ar": {"verb": (115,), "noun": (478,)},
    "lta": {"verb": (20, 115), "noun": (20, 478)},
}


def make_batch(task: str, b: int = 2, size: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    if task in ("pnr", "oscc"):
        return {"video": torch.randn(b, 3, 16, size, size, generator=g)}
    clips = (2,) if task == "lta" else ()
    return {
        "slow": torch.randn(b, *clips, 3, 8, size, size, generator=g),
        "fast": torch.randn(b, *clips, 3, 32, size, size, generator=g),
    }


def make_labels(task: str, b: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    if task == "pnr":
        return {"label": torch.randint(0, 16, (b,), generator=g)}
    if task == "oscc":
        return {"label": torch.randint(0, 2, (b,), generator=g)}
    steps = (20,) if task == "lta" else ()
    return {
        "verb": torch.randint(0, 115, (b, *steps), generator=g),
        "noun": torch.randint(0, 478, (b, *steps), generator=g),
    }


def check_streams(model: torch.nn.Module, tokens: dict[str, torch.Tensor], b: int) -> None:
    spec = get_task(model.task)
    assert set(tokens) == {s.name for s in spec.streams} == set(model.stream_dims)
    for s in spec.streams:
        assert tokens[s.name].shape == (b, s.tokens, model.stream_dims[s.name])
        assert torch.isfinite(tokens[s.name]).all()


@pytest.mark.parametrize("task", TASKS)
def test_full_size_parameter_counts_and_forward_shapes(task: str) -> None:
    model = build_ts_model(task, "full")
    counts = count_parameters(model)
    assert (counts.total, counts.trainable) == RELEASED[task]
    paper_trainable, paper_total = PAPER_M[task]
    assert abs(counts.trainable / 1e6 - paper_trainable) <= 0.03 * paper_trainable
    assert abs(counts.total / 1e6 - paper_total) <= 0.03 * paper_total
    spec = get_task(task)
    assert model.stream_dims == {s.name: s.dim for s in spec.streams}  # full size = the paper's dims

    model.eval()
    batch = make_batch(task, b=2, size=64)  # full widths on a small input keep this fast
    with torch.no_grad():
        out = model(batch)
        tokens = model.tokens(batch)
    assert {k: tuple(v.shape[1:]) for k, v in out.items()} == LOGIT_SHAPES[task]
    check_streams(model, tokens, 2)


@pytest.mark.parametrize("size", [64, 112])
@pytest.mark.parametrize("task", TASKS)
def test_tiny_models_accept_small_frames(task: str, size: int) -> None:
    model = build_ts_model(task, "tiny").eval()
    assert count_parameters(model).total < 2_000_000
    batch = make_batch(task, b=2, size=size)
    with torch.no_grad():
        out = model(batch)
        tokens = model.tokens(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == {k: (2, *s) for k, s in LOGIT_SHAPES[task].items()}
    check_streams(model, tokens, 2)


@pytest.mark.parametrize("task", TASKS)
def test_tiny_training_step_lowers_the_loss_and_reaches_exactly_the_trainable_parameters(task: str) -> None:
    model = build_ts_model(task, "tiny").train()
    batch, labels = make_batch(task), make_labels(task)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.05)

    def loss_now() -> torch.Tensor:
        torch.manual_seed(1)  # the same dropout masks before and after the step
        return model.loss(model(batch), labels)

    loss = loss_now()
    opt.zero_grad()
    loss.backward()
    for name, p in model.named_parameters():
        assert (p.grad is not None) == p.requires_grad, name
    assert any(p.grad.abs().sum() > 0 for p in params)
    opt.step()
    with torch.no_grad():
        after = loss_now()
    assert torch.isfinite(loss) and after < loss


def test_lta_trains_its_clip_head_aggregator_and_decoder_but_not_the_backbone() -> None:
    model = build_ts_model("lta", "tiny")
    trained = ("backbone.head.", "clip_aggregator.", "decoder.")
    for name, p in model.named_parameters():
        assert p.requires_grad == name.startswith(trained), name
    names = [n for n, _ in model.named_parameters()]
    assert all(any(n.startswith(prefix) for n in names) for prefix in (*trained, "backbone.s5."))


def test_lta_backbone_initialised_from_an_ar_model() -> None:
    ar, lta = build_ts_model("ar", "tiny"), build_ts_model("lta", "tiny")
    lta.init_backbone_from(ar)
    ours = lta.backbone.state_dict()
    for key, value in ar.backbone.state_dict().items():
        assert torch.equal(ours[key], value), key
    with pytest.raises(UserInputError, match="does not match the LTA backbone"):
        build_ts_model("lta", "tiny").init_backbone_from(build_ts_model("pnr", "tiny"))


def test_grid_tokens_window_and_flatten_order() -> None:
    c, t, h = 3, 2, 8
    res5 = torch.randn(1, c, t, h, h)
    tokens = grid_tokens(res5, 2)  # (1, T, 2*2*C)
    pooled = F.avg_pool3d(res5, (1, 7, 7), stride=1)  # the released head at 8x8: (1, C, T, 2, 2)
    for hh in range(2):
        for ww in range(2):
            for cc in range(c):
                torch.testing.assert_close(tokens[0, :, (hh * 2 + ww) * c + cc], pooled[0, cc, :, hh, ww])


def test_pnr_loss_is_bce_against_the_one_hot_keyframe() -> None:
    model = build_ts_model("pnr", "tiny")
    logits = torch.randn(3, 16)
    label = torch.tensor([0, 5, 15])
    target = torch.zeros(3, 16)
    target[torch.arange(3), label] = 1.0
    p = torch.sigmoid(logits)
    expected = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    torch.testing.assert_close(model.loss({"logits": logits}, {"label": label}), expected)


def test_oscc_and_ar_losses_are_cross_entropies() -> None:
    oscc = build_ts_model("oscc", "tiny")
    logits, label = torch.randn(4, 2), torch.tensor([0, 1, 1, 0])
    torch.testing.assert_close(
        oscc.loss({"logits": logits}, {"label": label}), F.cross_entropy(logits, label)
    )
    ar = build_ts_model("ar", "tiny")
    out = {"verb": torch.randn(4, 115), "noun": torch.randn(4, 478)}
    lab = {"verb": torch.tensor([1, 2, 3, 114]), "noun": torch.tensor([0, 477, 5, 6])}
    expected = F.cross_entropy(out["verb"], lab["verb"]) + F.cross_entropy(out["noun"], lab["noun"])
    torch.testing.assert_close(ar.loss(out, lab), expected)


def test_lta_loss_sums_the_cross_entropy_of_every_step_and_head() -> None:
    model = build_ts_model("lta", "tiny")
    out = {"verb": torch.randn(3, 20, 115), "noun": torch.randn(3, 20, 478)}
    lab = make_labels("lta", b=3)
    expected = sum(F.cross_entropy(out[k][:, z], lab[k][:, z]) for k in ("verb", "noun") for z in range(20))
    torch.testing.assert_close(model.loss(out, lab), expected)


def test_lta_candidates_start_with_the_argmax_and_are_reproducible() -> None:
    model = build_ts_model("lta", "tiny")
    assert isinstance(model, LTAModel)
    out = {"verb": torch.randn(2, 20, 115), "noun": torch.randn(2, 20, 478)}
    a = model.sample_candidates(out, k=5, generator=torch.Generator().manual_seed(3))
    b = model.sample_candidates(out, k=5, generator=torch.Generator().manual_seed(3))
    c = model.sample_candidates(out, k=5, generator=torch.Generator().manual_seed(4))
    for key, n in (("verb", 115), ("noun", 478)):
        assert a[key].shape == (2, 5, 20) and a[key].dtype == torch.int64
        assert torch.equal(a[key][:, 0], out[key].argmax(-1))
        assert torch.equal(a[key], b[key])
        assert not torch.equal(a[key][:, 1:], c[key][:, 1:])
        assert 0 <= int(a[key].min()) and int(a[key].max()) < n
    # draws follow the softmax: a near-certain class is always drawn
    peaked = {"verb": torch.full((1, 20, 115), -30.0), "noun": torch.full((1, 20, 478), -30.0)}
    peaked["verb"][..., 7] = 30.0
    peaked["noun"][..., 9] = 30.0
    s = model.sample_candidates(peaked, k=5, generator=torch.Generator().manual_seed(0))
    assert (s["verb"] == 7).all() and (s["noun"] == 9).all()
    assert model.sample_candidates(out, k=1)["verb"].shape == (2, 1, 20)


@pytest.mark.parametrize(
    ("task", "mutate", "match"),
    [
        ("pnr", lambda b: {}, "no 'video'"),
        ("pnr", lambda b: {"video": b["video"][0]}, "float tensor"),
        ("oscc", lambda b: {"video": b["video"][:, :1]}, "3 channels"),
        ("pnr", lambda b: {"video": b["video"][..., :16, :16]}, "too small"),
        ("ar", lambda b: {"slow": b["slow"], "fast": b["fast"][:, :, :16]}, "4 x the frames"),
        ("ar", lambda b: {"slow": b["slow"], "fast": b["fast"].long()}, "float tensor"),
        ("lta", lambda b: {"slow": b["slow"][:, 0], "fast": b["fast"]}, "float tensor"),
        ("lta", lambda b: {"slow": b["slow"], "fast": b["fast"][:, :1]}, "same clips"),
    ],
)
def test_bad_batches_raise_user_errors(task: str, mutate, match: str) -> None:
    model = build_ts_model(task, "tiny").eval()
    with pytest.raises(UserInputError, match=match), torch.no_grad():
        model(mutate(make_batch(task, b=1)))


def test_bad_labels_and_sizes_raise_user_errors() -> None:
    pnr = build_ts_model("pnr", "tiny")
    logits = {"logits": torch.randn(2, 16)}
    with pytest.raises(UserInputError, match=r"\[0, 16\)"):
        pnr.loss(logits, {"label": torch.tensor([0, 16])})
    with pytest.raises(UserInputError, match="shape"):
        pnr.loss(logits, {"label": torch.tensor([0])})
    with pytest.raises(UserInputError, match="no 'label'"):
        pnr.loss(logits, {})
    lta = build_ts_model("lta", "tiny")
    with pytest.raises(UserInputError, match="shape"):
        lta.loss({"verb": torch.randn(2, 20, 115), "noun": torch.randn(2, 20, 478)}, make_labels("ar"))
    with pytest.raises(UserInputError, match="k must be"):
        lta.sample_candidates({"verb": torch.randn(1, 20, 115), "noun": torch.randn(1, 20, 478)}, k=0)
    for build in (build_pnr, build_ar, build_lta):
        with pytest.raises(UserInputError, match="unknown TS size"):
            build("huge")


def test_lta_frozen_backbone_statistics_cannot_drift() -> None:
    from egot2.backbones import build_ts_model

    model = build_ts_model("lta", "tiny").train()
    stats = {k: v.clone() for k, v in model.backbone.state_dict().items() if "running_mean" in k}
    g = torch.Generator().manual_seed(0)
    batch = {"slow": torch.randn(2, 2, 3, 8, 64, 64, generator=g), "fast": torch.randn(2, 2, 3, 32, 64, 64, generator=g)}
    model(batch)
    assert model.training and model.backbone.head.training and not model.backbone.training
    for k, v in model.backbone.state_dict().items():
        if k in stats:
            assert torch.equal(v, stats[k]), k
