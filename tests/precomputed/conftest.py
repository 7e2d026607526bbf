"""The tiny synthetic world and tiny TS runs of the feature tests (one definition, shared here)."""

from __future__ import annotations

from features.conftest import tiny_world, ts_runs

__all__ = ["tiny_world", "ts_runs"]
