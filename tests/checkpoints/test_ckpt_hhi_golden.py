"""The released LAM/TTM/ASD checkpoints convert, load and reproduce the authors' goldens.

Each test writes the recipe-filled official state dict in the released container layout (with the
constant buffers the real files carry), converts it with ``egot2 convert-checkpoint``'s library
function, loads the result into our full-size model and compares every golden output.
"""

from __future__ import annotations

import gc
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
from egot2.backbones.audio import mel_filterbank
from egot2.checkpoints import convert_checkpoint, load_converted

pytestmark = requires_goldens


def released_file(task: str, folder: Path) -> tuple[Path, dict]:
    """The filled official weights saved as the authors' release would hold them."""
    manifest = load_manifest(task)
    state = filled_state_dict(manifest)
    assert filled_sha256(state) == manifest["filled_weights_sha256"]
    if task == "ttm":
        state["audio_encoder.torchfb.0.flipped_filter"] = torch.tensor([[[-0.97, 1.0]]])
        state["audio_encoder.torchfb.1.spectrogram.window"] = torch.hamming_window(400)
        state["audio_encoder.torchfb.1.mel_scale.fb"] = mel_filterbank(257, 64, 16000)
    if task == "asd":
        for head in ("lossAV", "lossA", "lossV"):
            state[f"{head}.criterion.weight"] = torch.tensor([1.0, 4.0])
    order = [k for k, _, _ in manifest["keys"]]
    state = {k: state[k] for k in order}
    if task == "lam":  # run.py dict from a DDP run, numpy metric
        obj = {"epoch": 12, "state_dict": {"module." + k: v for k, v in state.items()}, "mAP": np.float64(0.78)}
    elif task == "ttm":
        obj = {"epoch": 12, "state_dict": state, "mAP": np.float64(0.59)}
    else:  # TalkNet saveParameters: the flat state dict
        obj = state
    path = folder / f"ts_{task}.pth"
    torch.save(obj, path)
    return path, manifest


def converted_model(task: str, tmp_path: Path) -> tuple[torch.nn.Module, list[torch.Tensor]]:
    src, manifest = released_file(task, tmp_path)
    report = convert_checkpoint(task, src, tmp_path / f"{task}.safetensors")
    assert report.filled == []
    model = build_ts_model(task, "full").eval()
    load_converted(model, tmp_path / f"{task}.safetensors")
    return model, recipe_inputs(manifest["input"]["shapes_in_draw_order"])


def test_lam_goldens(tmp_path: Path) -> None:
    model, (video,) = converted_model("lam", tmp_path)
    with torch.no_grad():
        assert_close_to_golden(model.tokens({"video": video})["frames"], "lam_features")
        assert_close_to_golden(model({"video": video})["logits"], "lam_logits")
    del model
    gc.collect()


def test_ttm_goldens(tmp_path: Path) -> None:
    model, (video, audio) = converted_model("ttm", tmp_path)
    batch = {"video": video, "audio": audio}
    with torch.no_grad():
        tokens = model.tokens(batch)
        lstm_last, audio_embedding = model.branches(batch)
        logits = model.head(torch.cat([lstm_last, audio_embedding], dim=1))
    assert_close_to_golden(tokens["frames"], "ttm_features")
    assert_close_to_golden(tokens["audio"][:, 0], "ttm_audio_embedding")
    assert_close_to_golden(audio_embedding, "ttm_audio_embedding")
    assert_close_to_golden(lstm_last, "ttm_lstm_last")
    assert_close_to_golden(logits, "ttm_logits")
    with torch.no_grad():
        torch.testing.assert_close(model(batch)["logits"], logits)
    del model
    gc.collect()


def test_asd_goldens(tmp_path: Path) -> None:
    model, (video, audio) = converted_model("asd", tmp_path)
    batch = {"video": video, "audio": audio}
    with torch.no_grad():
        out = model(batch)
        tokens = model.tokens(batch)
    assert_close_to_golden(tokens["frames"], "asd_features")
    assert_close_to_golden(out["logits"].reshape(-1, 2), "asd_logits")  # (N*T, 2) as lossAV.FC gives
    assert_close_to_golden(out["audio_logits"].reshape(-1, 2), "asd_logits_audio")
    assert_close_to_golden(out["visual_logits"].reshape(-1, 2), "asd_logits_visual")
    del model
    gc.collect()


@pytest.mark.parametrize("task", ["lam", "ttm", "asd"])
def test_every_official_key_has_a_home(task: str) -> None:
    """Manifest keys, mapped, are exactly our full model's keys plus the ignored constants."""
    from egot2.checkpoints import build_target, load_key_mapping

    manifest = load_manifest(task)
    mapping = load_key_mapping(task)
    mapped = [mapping.map_key(k.removeprefix("module.")) for k, _, _ in manifest["keys"]]
    kept = [k for k in mapped if not mapping.is_ignored(k)]
    ours = build_target(task).state_dict()
    assert sorted(kept) == sorted(ours)
    shapes = {mapping.map_key(k): s for k, s, _ in manifest["keys"]}
    assert all(list(ours[k].shape) == shapes[k] for k in kept)
    assert sorted(set(mapped) - set(kept)) == sorted(manifest["fixed_buffers_not_filled"])
