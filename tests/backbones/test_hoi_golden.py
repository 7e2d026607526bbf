"""Full-size PNR, OSCC, AR and LTA models reproduce the authors' golden outputs.

Each test writes the recipe-filled official weights in the released layout (a Lightning checkpoint:
``{"state_dict": {"model.<key>": tensor}}``), converts it with ``egot2.checkpoints.convert_checkpoint``
through ``configs/checkpoints/<task>.yaml``, loads the result into our model and compares tokens and
logits with ``../shared/checkpoints`` (tolerance 1e-4 x max|ref|). One full model is alive at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.golden import (
    assert_close_to_golden,
    filled_sha256,
    filled_state_dict,
    load_manifest,
    recipe_inputs,
    requires_goldens,
)

from egot2.backbones import build_ts_model
from egot2.backbones.lta import sinusoid_table
from egot2.checkpoints import convert_checkpoint, load_converted, load_key_mapping

pytestmark = requires_goldens

PE_KEY = "clip_aggregator.pos_encoder.pe"

# task -> golden name -> how to read it from (forward outputs, token streams)
Reader = Callable[[dict, dict], torch.Tensor]
GOLDENS: dict[str, dict[str, Reader]] = {
    "pnr": {
        "pnr_features": lambda out, tok: tok["tokens"],
        "pnr_logits": lambda out, tok: out["logits"].unsqueeze(1),  # (1, 1, 16) as released
    },
    "oscc": {
        "oscc_features": lambda out, tok: tok["tokens"],
        "oscc_logits": lambda out, tok: out["logits"].unsqueeze(-1),  # (1, 2, 1) as released
    },
    "ar": {
        "ar_features_slow": lambda out, tok: tok["slow"],
        "ar_features_fast": lambda out, tok: tok["fast"],
        "ar_logits_verb": lambda out, tok: out["verb"],
        "ar_logits_noun": lambda out, tok: out["noun"],
    },
    "lta": {
        "lta_clip_features": lambda out, tok: tok["clip_features"],
        "lta_features": lambda out, tok: tok["clips"],
        "lta_logits_verb": lambda out, tok: out["verb"],
        "lta_logits_noun": lambda out, tok: out["noun"],
    },
}


def _batch(task: str, inputs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    if task in ("pnr", "oscc"):
        return {"video": inputs[0]}
    return {"slow": inputs[0], "fast": inputs[1]}


def _write_released(task: str, path: Path) -> int:
    """The filled official weights as a Lightning checkpoint; returns the number of tensors."""
    manifest = load_manifest(task)
    state = filled_state_dict(manifest)
    assert filled_sha256(state) == manifest["filled_weights_sha256"]
    if task == "lta":  # the released file holds the table too (a persistent buffer there)
        state[PE_KEY] = sinusoid_table(1000, 2048)
    torch.save(
        {"epoch": 0, "global_step": 0, "state_dict": {f"model.{k}": v for k, v in state.items()}}, path
    )
    return len(state)


@pytest.mark.parametrize("task", list(GOLDENS))
def test_full_model_reproduces_goldens(task: str, tmp_path: Path) -> None:
    src, dst = tmp_path / f"ts_{task}.ckpt", tmp_path / f"{task}.safetensors"
    try:
        n_file = _write_released(task, src)
        report = convert_checkpoint(task, src, dst)
        src.unlink()
        assert report.ignored == ([f"model.{PE_KEY}"] if task == "lta" else [])
        assert report.tensors == n_file - len(report.ignored)

        model = build_ts_model(task, "full")
        load_converted(model, dst)
        model.eval()
        batch = _batch(task, recipe_inputs(load_manifest(task)["input"]["shapes_in_draw_order"]))
        tokens: dict[str, torch.Tensor] = {}
        if task == "lta":  # forward computes the tokens: capture them there (saves 2 backbone passes)

            def keep(_module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
                tokens["clip_features"], tokens["clips"] = args[0], out

            model.clip_aggregator.register_forward_hook(keep)
        with torch.no_grad():
            outputs = model(batch)
            if task != "lta":
                tokens = model.tokens(batch)
        for name, read in GOLDENS[task].items():
            assert_close_to_golden(read(outputs, tokens), name)
    finally:
        src.unlink(missing_ok=True)
        dst.unlink(missing_ok=True)


@pytest.mark.parametrize("task", list(GOLDENS))
def test_mapping_turns_every_official_key_into_ours(task: str) -> None:
    """Key by key and shape by shape, in order, the mapped official state dict is our model's."""
    manifest = load_manifest(task)
    mapping = load_key_mapping(task)
    official = [(mapping.map_key(f"model.{k}"), tuple(shape)) for k, shape, _ in manifest["keys"]]
    official = [(k, s) for k, s in official if not mapping.is_ignored(k)]
    with torch.device("meta"):
        model = build_ts_model(task, "full")
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert official == ours


def test_lta_position_table_matches_the_released_buffer() -> None:
    ref = load_manifest("lta")["fixed_buffer_values"][PE_KEY]
    pe = sinusoid_table(1000, 2048)
    assert list(pe.shape) == ref["shape"]
    assert pe.flatten()[:8].tolist() == ref["first8"]
    np.testing.assert_allclose(pe.double().mean().item(), ref["mean"], rtol=1e-6)
    np.testing.assert_allclose(pe.double().std().item(), ref["std"], rtol=1e-6)
    # the constructor builds this table (the tiny model's is 64 wide) and keeps it out of the state dict
    tiny = build_ts_model("lta", "tiny")
    torch.testing.assert_close(tiny.clip_aggregator.pos_encoder.pe, sinusoid_table(1000, 64), rtol=0, atol=0)
    assert PE_KEY not in tiny.state_dict()
