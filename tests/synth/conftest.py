"""A tiny synthetic world, generated once for the synth tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.synth import generate_world, load_world_config


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "tiny"
    generate_world(load_world_config("tiny"), out, workers=1)
    return out
