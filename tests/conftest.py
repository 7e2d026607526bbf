"""Shared fixtures: seeding, a tiny synthetic world and randomly initialised tiny TS runs (made once
per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from egot2.backbones import build_ts_model
from egot2.config.schema import TrainConfig
from egot2.synth.config import load_world_config
from egot2.synth.generate import generate_world
from egot2.training.stage1 import save_ts_run

TASKS = ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)



@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(load_world_config(size="tiny", seed=3), out, workers=1)
    return out


@pytest.fixture(scope="session")
def ts_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ts")
    runs = {}
    for i, task in enumerate(TASKS):
        torch.manual_seed(100 + i)
        model = build_ts_model(task, "tiny")
        runs[task] = root / task
        save_ts_run(runs[task], model, task, "tiny", TrainConfig(), {"task": task, "size": "tiny"})
    return runs


@pytest.fixture()
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the media files :func:`egot2.data.video.open_container` opens during the test."""
    from egot2.data import video

    seen: list[str] = []
    real = video.open_container

    def counting(path, clip_id=None):  # noqa: ANN001, ANN202
        seen.append(Path(path).name)
        return real(path, clip_id)

    monkeypatch.setattr(video, "open_container", counting)
    return seen
