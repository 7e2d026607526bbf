"""Helpers for tests against the authors' checkpoint goldens in ``../shared/checkpoints``.

The weight-fill and input recipes are those of that folder's README (sections 3 and 4). Tests that
need the folder skip, saying why, only when it is absent (a user's clone); CI always has it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CHECKPOINTS = SHARED / "checkpoints"
WEIGHT_SEED = 20261128
INPUT_SEED = 7

requires_goldens = pytest.mark.skipif(
    not CHECKPOINTS.is_dir(), reason=f"golden checkpoint data not found at {CHECKPOINTS} (a user's clone)"
)


def load_manifest(model: str) -> dict[str, Any]:
    """The manifest ``<model>.json``."""
    return json.loads((CHECKPOINTS / f"{model}.json").read_text())


def load_golden(name: str) -> np.ndarray:
    """A golden array ``<name>.npy``."""
    return np.load(CHECKPOINTS / f"{name}.npy")


def filled_state_dict(manifest: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The recipe-filled tensors under the *official* key names, in manifest order.

    Fixed constant buffers are left out (they keep their constructor value); ``num_batches_tracked``
    is 0.
    """
    rng = np.random.default_rng(WEIGHT_SEED)
    fixed = set(manifest.get("fixed_buffers_not_filled") or [])
    out: dict[str, torch.Tensor] = {}
    for key, shape, _dtype in manifest["keys"]:
        if key in fixed:
            continue
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0, dtype=torch.int64)
            continue
        if key.endswith("running_var"):
            a = 1.0 + 0.1 * np.abs(rng.standard_normal(shape))
        elif key.endswith("running_mean"):
            a = 0.1 * rng.standard_normal(shape)
        elif len(shape) == 1:
            a = (1.0 if key.endswith(".weight") else 0.0) + 0.1 * rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) / math.sqrt(int(np.prod(shape[1:])))
        out[key] = torch.from_numpy(np.ascontiguousarray(a.astype(np.float32)))
    return out


def filled_sha256(state: dict[str, torch.Tensor]) -> str:
    """sha256 of the float32 bytes of every filled tensor (``num_batches_tracked`` left out)."""
    h = hashlib.sha256()
    for key, t in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        h.update(t.numpy().astype("<f4").tobytes())
    return h.hexdigest()


def recipe_inputs(shapes: list[list[int]]) -> list[torch.Tensor]:
    """The deterministic inputs: N(0, 1) draws from one generator, in the given order."""
    rng = np.random.default_rng(INPUT_SEED)
    return [torch.from_numpy(rng.standard_normal(s).astype(np.float32)) for s in shapes]


def assert_close_to_golden(actual: torch.Tensor | np.ndarray, name: str, rel: float = 1e-4) -> None:
    """``|actual - ref| <= rel * max|ref|`` elementwise, with the shape checked first."""
    ref = load_golden(name)
    got = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != golden {ref.shape}"
    tol = rel * float(np.abs(ref).max())
    err = float(np.abs(got.astype(np.float64) - ref).max())
    assert err <= tol, f"{name}: max abs error {err:.3e} > tolerance {tol:.3e}"
