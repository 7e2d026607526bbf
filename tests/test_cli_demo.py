"""CLI basics: the command list and argument errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.cli import build_parser, main


def test_every_command_is_listed() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"demo", "synth", "train-ts", "extract", "train", "eval", "evaluate", "params",
                                "convert-checkpoint"}


def test_params_needs_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params"]) == 2
    assert "CONFIG" in capsys.readouterr().err


def test_demo_refuses_no_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--quick", "--workers", "0", "--out", str(tmp_path / "d")]) == 2
    assert "--workers" in capsys.readouterr().err and not (tmp_path / "d").exists()  # refused before any work
