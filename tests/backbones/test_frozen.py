"""The frozen-model interface: eval mode and no gradients in one place, and it cannot drift back."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from egot2.backbones import FrozenTS, build_ts_model
from egot2.cli import main


def _asd_batch(b: int = 2, t: int = 6) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"video": torch.randn(b, t, 112, 112, generator=g), "audio": torch.randn(b, 4 * t, 13, generator=g)}


def test_frozen_ts_cannot_drift_inside_a_training_translator() -> None:
    frozen = FrozenTS(build_ts_model("asd", "tiny"))
    parent = nn.ModuleDict({"ts": frozen, "proj": nn.Linear(frozen.model.stream_dims["frames"], 4)})
    parent.train()  # what Lightning does at every fit epoch
    before = {k: v.clone() for k, v in frozen.state_dict().items()}
    tokens = frozen(_asd_batch())
    loss = parent["proj"](tokens["frames"]).sum()
    loss.backward()
    assert not frozen.model.training and all(not m.training for m in frozen.model.modules())
    for k, v in frozen.state_dict().items():
        assert torch.equal(v, before[k]), k  # BatchNorm running statistics included
    assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())
    assert parent["proj"].weight.grad is not None


def test_token_streams_have_the_spec_names() -> None:
    frozen = FrozenTS(build_ts_model("asd", "tiny"))
    tokens = frozen(_asd_batch(t=5))
    assert set(tokens) == {s.name for s in frozen.streams}
    assert tokens["frames"].shape == (2, 5, frozen.model.stream_dims["frames"])


@pytest.mark.parametrize("size", ["full"])
def test_params_ts_full(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--ts", size, "--json"]) == 0
    rows = {r["task"]: r for r in json.loads(capsys.readouterr().out)}
    paper = {"pnr": 32.2, "oscc": 32.2, "ar": 63.3, "lta": 180.0, "ttm": 20.2, "asd": 15.7, "lam": 14.6}
    for task, millions in paper.items():
        assert rows[task]["size"] == size
        assert abs(rows[task]["trainable"] / 1e6 - millions) <= 0.03 * millions, task
    assert abs(rows["lta"]["total"] / 1e6 - 242) <= 0.03 * 242
