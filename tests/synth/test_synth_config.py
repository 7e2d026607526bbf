"""The world config: shipped presets, deltas, unknown keys and bad values."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from egot2.errors import UserInputError
from egot2.synth.config import SIZES, WorldConfig, load_world_config, preset_path


def test_default_yaml_lists_every_key_with_its_default() -> None:
    import yaml

    path = preset_path("default")
    listed = yaml.safe_load(path.read_text())
    defaults = asdict(WorldConfig())
    assert listed == defaults  # every key, every value: the file cannot drift from the dataclasses
    assert asdict(load_world_config(world=path)) == defaults


@pytest.mark.parametrize("size", SIZES)
def test_every_preset_loads(size: str) -> None:
    cfg = load_world_config(size)
    assert cfg.name == size


def test_quick_is_smaller_than_default() -> None:
    quick, full = load_world_config("quick"), load_world_config("default")
    for family in ("oscc_pnr", "ar_lta", "human_human"):
        q, f = getattr(quick, family).clips, getattr(full, family).clips
        assert q.train < f.train and q.val <= f.val
    assert quick.ttm == full.ttm and quick.taxonomy == full.taxonomy  # sizes only


def test_deltas_seed_and_overrides_apply_in_order(tmp_path: Path) -> None:
    delta = tmp_path / "w.yaml"
    delta.write_text("seed: 5\nttm: {label_noise: 0.2}\nlam: {gaze_shift: 0.3}\n")
    cfg = load_world_config("quick", world=delta, overrides=["lam.gaze_shift=0.6"])
    assert (cfg.seed, cfg.ttm.label_noise, cfg.lam.gaze_shift) == (5, 0.2, 0.6)
    assert cfg.oscc_pnr.clips.train == load_world_config("quick").oscc_pnr.clips.train
    assert load_world_config("quick", world=delta, seed=9).seed == 9


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    delta = tmp_path / "typo.yaml"
    delta.write_text("ttm:\n  label_nosie: 0.2\n")
    with pytest.raises(UserInputError) as exc:
        load_world_config(world=delta)
    assert "label_nosie" in str(exc.value) and str(delta) in str(exc.value)


@pytest.mark.parametrize(("override", "field"), [
    ("ttm.label_noise=0.7", "ttm.label_noise"),
    ("human_object.size=50", "human_object.size"),
    ("ar_lta.actions_per_clip=[10,12]", "ar_lta.actions_per_clip"),
    ("oscc_pnr.p_change_verb=1.5", "oscc_pnr.p_change_verb"),
    ("video.codec=vp9", "video.codec"),
])
def test_bad_values_name_the_key(override: str, field: str) -> None:
    with pytest.raises(UserInputError) as exc:
        load_world_config(overrides=[override])
    assert exc.value.field == field


def test_scenario_with_an_unknown_verb(tmp_path: Path) -> None:
    delta = tmp_path / "s.yaml"
    delta.write_text("taxonomy:\n  scenarios:\n    - {name: odd, verbs: [take, juggle], nouns: [box]}\n")
    with pytest.raises(UserInputError, match="juggle") as exc:
        load_world_config(world=delta)
    assert exc.value.field == "taxonomy.scenarios[0].verbs"


def test_unknown_size_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="size"):
        load_world_config("huge")
    with pytest.raises(UserInputError, match="not found"):
        load_world_config(world=tmp_path / "absent.yaml")
