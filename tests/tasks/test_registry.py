"""The task registry, and a made-up eighth task trained end to end without touching the core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from egot2.config import TranslatorConfig
from egot2.errors import UserInputError
from egot2.tasks import (
    LossSpec,
    OutputKind,
    OutputSpec,
    StreamSpec,
    TaskSpec,
    get_task,
    register_task,
    unregister_task,
)
from egot2.tasks.losses import task_loss
from egot2.translator import EgoT2S, plan_streams

GRASP = TaskSpec(
    name="grasp",
    cluster="human-object",
    modalities=("video",),
    clip_s=4.0,
    fps=4.0,
    window_s=4.0,
    streams=(StreamSpec("tokens", 16, 24),),
    output=OutputSpec(OutputKind.BINARY, num_classes=2),
    loss=LossSpec("ce", class_weights=(1.0, 1.0)),
    description="made-up: is the hand grasping",
)


@pytest.fixture
def grasp() -> Iterator[TaskSpec]:
    register_task(GRASP)
    yield GRASP
    unregister_task("grasp")


def test_duplicate_rejected(grasp: TaskSpec) -> None:
    with pytest.raises(UserInputError, match="already registered"):
        register_task(GRASP)


def test_miss_lists_valid_names() -> None:
    with pytest.raises(UserInputError) as info:
        get_task("pnrr")
    assert "unknown task 'pnrr'" in str(info.value)
    for name in ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"):
        assert name in str(info.value)


def test_bad_spec_rejected() -> None:
    with pytest.raises(UserInputError, match="cluster"):
        TaskSpec("x", "human-robot", ("video",), 1.0, 1.0, None, (StreamSpec("t", 1, 1),), OutputSpec(OutputKind.BINARY))


def test_eighth_task_trains(grasp: TaskSpec) -> None:
    """The new task joins the human-object cluster: AR (2.13 s) fits its 4 s clip, PNR (8 s) does not."""
    layout = plan_streams("grasp", ["ar"])
    assert [s.key for s in layout] == ["grasp.tokens", "ar.slow", "ar.fast"]
    with pytest.raises(UserInputError, match="span rule"):
        plan_streams("grasp", ["pnr"])
    layout = plan_streams("grasp", ["ar"], dims={"ar.slow": 32, "ar.fast": 8})
    model = EgoT2S(grasp, layout, TranslatorConfig(dim=32, layers=1, heads=4, ffn=64, dropout=0.0))

    # The label is planted in the AR slow stream only: the translator must read the auxiliary task.
    g = torch.Generator().manual_seed(1)
    n = 256
    label = torch.randint(0, 2, (n,), generator=g)
    streams = {
        "grasp.tokens": torch.randn(n, 16, 24, generator=g),
        "ar.slow": torch.randn(n, 8, 32, generator=g) + 1.5 * (2 * label.float() - 1)[:, None, None],
        "ar.fast": torch.randn(n, 8, 8, generator=g),
    }
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    train, val = slice(0, 192), slice(192, n)
    first = None
    for _ in range(60):
        loss = task_loss(grasp, model({k: v[train] for k, v in streams.items()}), {"label": label[train]})
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model({k: v[val] for k, v in streams.items()})["logits"].argmax(-1)
    assert loss.item() < 0.5 * first
    assert (pred == label[val]).float().mean() > 0.9
