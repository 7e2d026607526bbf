"""The hard-sharing baseline: one trunk for two tasks, trained jointly on the tiny world."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.config.schema import TrainConfig
from egot2.errors import UserInputError
from egot2.training.multitask import build_hard_sharing, train_multitask


def test_one_trunk_two_heads() -> None:
    model = build_hard_sharing(("lam", "ttm"))
    assert set(model.heads) == {"lam", "ttm"}
    trunk_params = {id(p) for p in model.trunk.parameters()}
    assert not trunk_params & {id(p) for h in model.heads.values() for p in h.parameters()}
    with pytest.raises(UserInputError, match="no shared trunk"):
        build_hard_sharing(("pnr", "ttm"))


def test_joint_training_scores_both_tasks(tiny_world: Path, tmp_path: Path) -> None:
    info = train_multitask(("lam", "ttm"), tiny_world, tmp_path / "mt",
                           TrainConfig(epochs=1, batch_size=8, lr=1e-3), progress=False)
    assert set(info["val"]) == {"lam", "ttm"}
    assert 0.0 <= info["val"]["lam"]["map"] <= 1.0 and 0.0 <= info["val"]["ttm"]["map"] <= 1.0
    assert (tmp_path / "mt" / "run.json").exists()
