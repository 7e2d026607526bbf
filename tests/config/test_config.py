"""Configs: YAML deltas over typed defaults, unknown keys rejected, overrides, shipped configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.cli import main
from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.methods import build_model

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "configs" / "paper"

# Paper Tables 2 and 3, trainable parameters of EgoT2-s (millions).
PAPER_TRAINABLE = {"pnr": 6.4, "oscc": 7.4, "ar": 4.3, "lta": 41.8, "ttm": 0.7, "asd": 1.5}


def test_delta_over_defaults(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  primary: oscc\n  translator: {layers: 5}\n")
    cfg = load_config([f], ["model.translator.dim=64", "train.lr=0.5"])
    assert cfg.model.primary == "oscc" and cfg.model.translator.layers == 5
    assert cfg.model.translator.dim == 64 and cfg.train.lr == 0.5
    assert cfg.model.translator.heads == 8  # default kept


def test_misspelt_key_names_key_and_file(tmp_path: Path) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text("model:\n  translator:\n    layrs: 2\n")
    with pytest.raises(UserInputError) as info:
        load_config([f])
    assert "layrs" in str(info.value) and str(f) in str(info.value)


def test_bad_value_and_bad_override(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="model.translator.dim"):
        load_config([], ["model.translator.dim=wide"])
    with pytest.raises(UserInputError, match="key.sub=value"):
        load_config([], ["model.translator.dim"])
    with pytest.raises(UserInputError, match="translator.positions"):
        load_config([], ["model.translator.positions=rotary"])
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(UserInputError, match="mapping"):
        load_config([f])


def test_cli_misspelt_key_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text("model:\n  primry: pnr\n")
    assert main(["params", str(f)]) == 2
    err = capsys.readouterr().err
    assert "primry" in err and str(f) in err and "Traceback" not in err


@pytest.mark.parametrize("path", sorted(PAPER.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_builds(path: Path) -> None:
    cfg = load_config([path])
    assert build_model(cfg.model) is not None


def test_params_of_paper_configs(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    paths = [str(PAPER / f"egot2s_{t}.yaml") for t in PAPER_TRAINABLE]
    assert main(["params", *paths, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["config"] for r in rows] == paths
    for row, (task, millions) in zip(rows, PAPER_TRAINABLE.items(), strict=True):
        assert set(row) >= {"config", "trainable", "total"}
        assert abs(row["trainable"] / 1e6 - millions) <= 0.03 * millions, (task, row["trainable"])
        assert row["total"] >= row["trainable"]
