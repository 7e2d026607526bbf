"""Run loggers: CSV always, TensorBoard too when it is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger, Logger


def make_loggers(out: Path) -> list[Logger]:
    """``out/logs`` as CSV, and ``out/tb`` for TensorBoard if the ``tensorboard`` package is present."""
    loggers: list[Logger] = [CSVLogger(out, name="logs")]
    if importlib.util.find_spec("tensorboard") is not None:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(out, name="tb"))
    return loggers
