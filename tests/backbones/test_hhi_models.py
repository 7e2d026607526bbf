"""LAM, TTM and ASD TS models: shapes, gradients, losses, training and parameter counts."""

from __future__ import annotations

import gc

import pytest
import torch
from tests.checkpoints.hhi_batches import make_batch, make_labels

from egot2.backbones import build_ts_model
from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.utils.params import count_parameters

HHI = ("lam", "ttm", "asd")
# TalkNet's first visual stage has a 1x1 projection it never uses (stride 1); the released file holds it.
UNUSED = {"visual_frontend.resnet.layer1.downsample.weight"}
# paper Tables 2/3 (TTM 20.2M, ASD 15.7M) and the official LAM class (14,641,322)
PAPER_PARAMS = {"lam": 14.6e6, "ttm": 20.2e6, "asd": 15.7e6}
OFFICIAL_PARAMS = {"lam": 14_641_322, "ttm": 20_170_338, "asd": 15_744_481}


def expected_logit_shapes(task: str, b: int, t: int) -> dict[str, tuple[int, ...]]:
    if task == "asd":
        return {"logits": (b, t, 2), "audio_logits": (b, t, 2), "visual_logits": (b, t, 2)}
    return {"logits": (b, 2)}


def expected_token_shapes(task: str, dims: dict[str, int], b: int, t: int) -> dict[str, tuple[int, ...]]:
    lengths = {"frames": t, "visual": t, "audio": 1}
    return {name: (b, lengths[name], dim) for name, dim in dims.items()}


@pytest.mark.parametrize("task", HHI)
def test_tiny_shapes_streams_and_gradients(task: str) -> None:
    model = build_ts_model(task, "tiny")
    batch = make_batch(task)
    out = model(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == expected_logit_shapes(task, 2, 5)
    tokens = model.tokens(batch)
    spec_streams = [s.name for s in get_task(task).streams]
    assert list(tokens) == spec_streams == list(model.stream_dims)
    assert {k: tuple(v.shape) for k, v in tokens.items()} == expected_token_shapes(task, model.stream_dims, 2, 5)
    loss = model.loss(out, make_labels(task))
    assert torch.isfinite(loss)
    loss.backward()
    no_grad = {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}
    assert no_grad == (UNUSED if task == "asd" else set())
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("task", HHI)
def test_tiny_training_step_lowers_the_loss(task: str) -> None:
    model = build_ts_model(task, "tiny").train()
    batch, labels = make_batch(task, b=4), make_labels(task, b=4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = model.loss(model(batch), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("task", HHI)
def test_full_size_parameters_and_forward_shapes(task: str) -> None:
    model = build_ts_model(task, "full").eval()
    total = count_parameters(model).total
    assert total == OFFICIAL_PARAMS[task]
    assert abs(total - PAPER_PARAMS[task]) <= 0.03 * PAPER_PARAMS[task]
    dims = {s.name: s.dim for s in get_task(task).streams}
    assert model.stream_dims == dims
    b, t = 1, 4
    batch = make_batch(task, b=b, t=t, face=112)
    with torch.no_grad():
        out = model(batch)
        tokens = model.tokens(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == expected_logit_shapes(task, b, t)
    assert {k: tuple(v.shape) for k, v in tokens.items()} == expected_token_shapes(task, dims, b, t)
    del model
    gc.collect()


def test_tiny_models_are_small() -> None:
    for task in HHI:
        assert count_parameters(build_ts_model(task, "tiny")).total < 500_000


@pytest.mark.parametrize("task", ["ttm", "asd"])
def test_video_only_batch_gives_the_video_streams(task: str) -> None:
    model = build_ts_model(task, "tiny").eval()
    batch = make_batch(task)
    video_only = {"video": batch["video"]}
    with torch.no_grad():
        full, partial = model.tokens(batch), model.tokens(video_only)
    expected = {"ttm": ["frames"], "asd": ["visual"]}[task]
    assert list(partial) == expected
    for name in expected:
        torch.testing.assert_close(partial[name], full[name])


def test_asd_visual_stream_does_not_depend_on_audio() -> None:
    model = build_ts_model("asd", "tiny").eval()
    batch = make_batch("asd")
    other = {"video": batch["video"], "audio": torch.randn_like(batch["audio"])}
    with torch.no_grad():
        a, b = model.tokens(batch), model.tokens(other)
    torch.testing.assert_close(a["visual"], b["visual"])
    assert not torch.allclose(a["frames"], b["frames"])


def test_asd_clips_of_a_batch_are_independent() -> None:
    model = build_ts_model("asd", "tiny").eval()
    batch = make_batch("asd", b=2)
    with torch.no_grad():
        both = model(batch)["logits"]
        first = model({k: v[:1] for k, v in batch.items()})["logits"]
    torch.testing.assert_close(both[:1], first, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("task", "weights"), [("lam", (0.136, 0.864)), ("ttm", (0.266, 0.734))]
)
def test_clip_losses_use_the_baseline_class_weights(task: str, weights: tuple[float, float]) -> None:
    model = build_ts_model(task, "tiny")
    logits = torch.tensor([[0.3, -0.2], [1.0, 0.5], [0.0, 2.0]])
    label = torch.tensor([0, 1, 1])
    w = torch.tensor(weights)
    nll = -torch.log_softmax(logits, dim=1)[torch.arange(3), label]
    expected = (w[label] * nll).sum() / w[label].sum()
    torch.testing.assert_close(model.loss({"logits": logits}, {"label": label}), expected)


def test_asd_loss_weights_aux_heads_and_ignores_padding() -> None:
    model = build_ts_model("asd", "tiny")
    g = torch.Generator().manual_seed(1)
    outputs = {k: torch.randn(2, 3, 2, generator=g) for k in ("logits", "audio_logits", "visual_logits")}
    label = torch.tensor([[0, 1, 1], [1, 0, -100]])

    def ce(x: torch.Tensor) -> torch.Tensor:
        x, y = x.reshape(-1, 2)[:5], label.reshape(-1)[:5]
        w = torch.tensor([1.0, 4.0])[y]
        return (w * -torch.log_softmax(x, dim=1)[torch.arange(5), y]).sum() / w.sum()

    expected = ce(outputs["logits"]) + 0.4 * (ce(outputs["audio_logits"]) + ce(outputs["visual_logits"]))
    torch.testing.assert_close(model.loss(outputs, {"label": label}), expected)
    changed = {k: v.clone() for k, v in outputs.items()}
    changed["logits"][1, 2] += 5.0  # a padded frame
    torch.testing.assert_close(model.loss(changed, {"label": label}), expected)


@pytest.mark.parametrize(
    ("task", "batch"),
    [
        ("lam", {"video": torch.zeros(2, 3, 32, 32)}),
        ("ttm", {"video": torch.zeros(1, 3, 3, 32, 32)}),
        ("asd", {"video": torch.zeros(1, 4, 32, 32), "audio": torch.zeros(1, 15, 13)}),
        ("asd", {"audio": torch.zeros(1, 16, 13)}),
    ],
)
def test_bad_inputs_are_user_errors(task: str, batch: dict[str, torch.Tensor]) -> None:
    model = build_ts_model(task, "tiny")
    with pytest.raises(UserInputError):
        model(batch)


def test_unknown_size_is_a_user_error() -> None:
    from egot2.backbones.social import build_lam
    from egot2.backbones.talknet import build_asd

    for fn in (build_lam, build_asd):
        with pytest.raises(UserInputError, match="tiny"):
            fn("huge")
