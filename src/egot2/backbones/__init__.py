"""Task-specific (TS) backbone families, each at a ``full`` (paper) and a ``tiny`` size.

:func:`build_ts_model` is the one entry point; the table below maps a task to the builder of its
family (imported lazily so that building one family never imports the others).
"""

from __future__ import annotations

import importlib

from egot2.backbones.base import TSModel
from egot2.backbones.frozen import FrozenTS
from egot2.errors import UserInputError

SIZES: tuple[str, ...] = ("full", "tiny")

# task -> "module:function"; each function takes ``size`` and returns a TSModel.
_BUILDERS: dict[str, str] = {
    "pnr": "egot2.backbones.resnet3d:build_pnr",
    "oscc": "egot2.backbones.resnet3d:build_oscc",
    "ar": "egot2.backbones.slowfast:build_ar",
    "lta": "egot2.backbones.lta:build_lta",
    "lam": "egot2.backbones.social:build_lam",
    "ttm": "egot2.backbones.social:build_ttm",
    "asd": "egot2.backbones.talknet:build_asd",
}


def register_ts_builder(task: str, target: str) -> None:
    """Register ``"module:function"`` as the TS-model builder of ``task`` (rejects duplicates)."""
    if task in _BUILDERS:
        raise UserInputError(f"a TS-model builder for task {task!r} is already registered", field="task")
    _BUILDERS[task] = target


def ts_tasks() -> list[str]:
    """Tasks that have a TS-model builder."""
    return list(_BUILDERS)


def build_ts_model(task: str, size: str = "tiny") -> TSModel:
    """Build the TS model of ``task`` at ``size`` (``"full"`` or ``"tiny"``), randomly initialised."""
    if size not in SIZES:
        raise UserInputError(f"unknown TS size {size!r}; valid: {list(SIZES)}", field="size")
    if task not in _BUILDERS:
        raise UserInputError(f"no TS model for task {task!r}; valid: {', '.join(_BUILDERS)}", field="task")
    module_name, fn_name = _BUILDERS[task].split(":")
    fn = getattr(importlib.import_module(module_name), fn_name)
    return fn(size)


__all__ = ["SIZES", "FrozenTS", "TSModel", "build_ts_model", "register_ts_builder", "ts_tasks"]
