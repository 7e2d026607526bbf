"""The README's main command runs and reports every paper translator."""

from __future__ import annotations

import pytest

from egot2.cli import main


def test_demo_runs_every_paper_translator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--frames", "8"]) == 0
    out = capsys.readouterr().out
    for name in ("egot2s_pnr", "egot2s_oscc", "egot2s_ar", "egot2s_lta", "egot2s_ttm", "egot2s_asd"):
        assert name in out
    assert "41.81M" in out  # the LTA translator's trainable parameters


def test_params_needs_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params"]) == 2
    assert "CONFIG" in capsys.readouterr().err
