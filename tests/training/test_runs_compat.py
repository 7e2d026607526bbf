"""Run folders written before a default changed still load with the setting they were trained with."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from egot2.config import load_config
from egot2.methods import build_model
from egot2.training.runs import load_run, save_run


def test_a_pnr_run_from_before_keyframe_head_loads_with_the_pooled_head(tmp_path: Path) -> None:
    cfg = load_config([], ["model.method=egot2-s", "model.primary=pnr", "model.keyframe_head=pooled",
                           "model.translator.dim=16", "model.translator.heads=2", "model.translator.ffn=16",
                           "model.translator.layers=1", "model.dims={pnr.tokens: 8, oscc.tokens: 8, ar.slow: 6, ar.fast: 4}"])
    model = build_model(cfg.model)
    save_run(tmp_path / "old", model, cfg, {"val": {}})
    path = tmp_path / "old" / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    del raw["model"]["keyframe_head"]  # as the run was written before the key existed
    path.write_text(yaml.safe_dump(raw))
    loaded, _, weights = load_run(tmp_path / "old")
    assert loaded.model.keyframe_head == "pooled"
    again = build_model(loaded.model)
    again.load_state_dict(weights)  # the pooled head's weights fit
    x = {k: torch.randn(2, n, d) for k, n, d in [("pnr.tokens", 16, 8), ("oscc.tokens", 16, 8), ("ar.slow", 8, 6),
                                                 ("ar.fast", 8, 4)]}
    torch.testing.assert_close(again.eval()(x)["logits"], model.eval()(x)["logits"])
    # a run written now, with the per-frame default, keeps it
    cfg_now = load_config([], ["model.method=finetune", "model.primary=pnr", "model.fusion.hidden=8",
                               "model.dims={pnr.tokens: 8}"])
    save_run(tmp_path / "new", build_model(cfg_now.model), cfg_now, {"val": {}})
    assert load_run(tmp_path / "new")[0].model.keyframe_head == "per-frame"
