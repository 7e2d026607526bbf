"""Reading released files safely, key mappings, clear errors, and the save/load round trip."""

from __future__ import annotations

import argparse
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.checkpoints.hhi_batches import make_batch
from torch import nn

from egot2.backbones import build_ts_model
from egot2.checkpoints import (
    KeyMapping,
    Placeholder,
    convert_checkpoint,
    extract_state_dict,
    load_converted,
    load_key_mapping,
    mappings_dir,
    read_checkpoint,
    save_converted,
)
from egot2.cli import convert_checkpoint as cli_convert
from egot2.errors import UserInputError

RAN: list[str] = []


def _side_effect(tag: str) -> str:
    RAN.append(tag)
    return tag


class Sneaky:
    """Unpickling this calls ``_side_effect``: a stand-in for code a hostile file would run."""

    def __reduce__(self) -> tuple:
        return (_side_effect, ("ran",))


class CfgNode(dict):
    """Like yacs' CfgNode: a dict subclass with attributes."""


def _cfg() -> CfgNode:
    cfg = CfgNode(MODEL=CfgNode(ARCH="slow"), SOLVER={"BASE_LR": 1e-4})
    cfg.frozen = True
    return cfg


def _tiny(task: str = "lam") -> nn.Module:
    torch.manual_seed(3)
    return build_ts_model(task, "tiny").eval()


def _outputs(model: nn.Module, task: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(11)
    with torch.no_grad():
        return model(make_batch(task))


# --- reading ----------------------------------------------------------------------------------


def test_restricted_unpickler_rebuilds_data_and_runs_no_code(tmp_path: Path) -> None:
    state = {"model.w": torch.arange(6.0).view(2, 3), "model.b": torch.ones(2)}
    ckpt = {
        "epoch": 3,
        "state_dict": OrderedDict(state),
        "hyper_parameters": {"cfg": _cfg(), "hook": Sneaky()},
        "metric": np.float32(0.25),
        "tags": {"a", "b"},
    }
    path = tmp_path / "run.ckpt"
    torch.save(ckpt, path)
    RAN.clear()
    obj = read_checkpoint(path)
    assert RAN == []
    assert obj["epoch"] == 3 and obj["metric"] == pytest.approx(0.25) and obj["tags"] == {"a", "b"}
    torch.testing.assert_close(obj["state_dict"]["model.w"], state["model.w"])
    cfg = obj["hyper_parameters"]["cfg"]
    assert isinstance(cfg, Placeholder) and cfg.placeholder_name == "CfgNode"
    assert cfg.items["MODEL"].items == {"ARCH": "slow"} and cfg.state == {"frozen": True}
    hook = obj["hyper_parameters"]["hook"]
    assert isinstance(hook, Placeholder) and hook.placeholder_name == "_side_effect" and hook.args == ("ran",)
    with pytest.raises(UserInputError, match="restricted unpickler"):
        read_checkpoint(path, allow_pickle=False)
    assert RAN == []


def test_plain_files_load_weights_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from egot2.checkpoints import unpickler

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the restricted unpickler was used for a weights-only file")

    monkeypatch.setattr(unpickler.RestrictedUnpickler, "load", refuse)
    path = tmp_path / "plain.pth"
    torch.save({"state_dict": {"w": torch.ones(3)}, "epoch": 1}, path)
    obj = read_checkpoint(path, allow_pickle=False)
    assert obj["epoch"] == 1 and torch.equal(obj["state_dict"]["w"], torch.ones(3))


@pytest.mark.parametrize("kind", ["zip", "legacy", "safetensors"])
def test_truncated_or_corrupt_files_are_clear_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("x.safetensors" if kind == "safetensors" else "x.pth")
    state = {"w": torch.randn(64, 64)}
    if kind == "safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path, _use_new_zipfile_serialization=kind == "zip")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserInputError, match="truncated or corrupt") as info:
        read_checkpoint(path)
    assert str(path) in str(info.value)


def test_missing_file_and_non_dict_object(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found"):
        read_checkpoint(tmp_path / "nope.pth")
    path = tmp_path / "list.pth"
    torch.save([torch.ones(1)], path)
    with pytest.raises(UserInputError, match="expected a dict"):
        extract_state_dict(read_checkpoint(path), "lightning", file=path)


def test_containers() -> None:
    w = torch.ones(1)
    assert extract_state_dict({"state_dict": {"a": w}, "epoch": 1}, "lightning") == {"a": w}
    assert extract_state_dict({"a": w, "note": "x"}, "flat") == {"a": w}
    assert extract_state_dict({"a": w}, "dict") == {"a": w}  # already extracted
    with pytest.raises(UserInputError, match="no state dict"):
        extract_state_dict({"epoch": 1}, "dict")
    with pytest.raises(UserInputError, match="container"):
        extract_state_dict({"a": w}, "zip")


# --- mapping files ----------------------------------------------------------------------------


def test_every_shipped_mapping_file_loads() -> None:
    files = sorted(mappings_dir().glob("*.yaml"))
    assert {"lam", "ttm", "asd"} <= {p.stem for p in files}
    for path in files:
        mapping = load_key_mapping(path)
        assert mapping.task == path.stem


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("task: lam\ncontainer: dict\nrenmaes: []\n", "renmaes"),
        ("task: lam\ncontainer: box\n", "container"),
        ("task: lam\nrenames: [['(unclosed', 'x']]\n", "renames"),
        ("task: lam\nrenames: [['a']]\n", "renames"),
        ("task: lam\nignore: '^x'\n", "ignore"),
        ("container: flat\n", "task"),
    ],
)
def test_bad_mapping_files_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(UserInputError) as info:
        load_key_mapping(path)
    assert info.value.field == field and info.value.file == str(path)


def test_unknown_task_mapping_lists_the_shipped_ones() -> None:
    with pytest.raises(UserInputError, match="lam"):
        load_key_mapping("nosuchtask")


def test_map_key_strips_the_first_matching_prefix_then_renames() -> None:
    m = KeyMapping("x", strip_prefixes=("module.", "model."), renames=(("^a\\.", "b."), ("^b\\.", "c.")))
    assert m.map_key("module.a.w") == "c.w"
    assert m.map_key("model.module.a.w") == "module.a.w"
    with pytest.raises(UserInputError, match="both map"):
        m.apply({"module.a.w": torch.ones(1), "a.w": torch.ones(1)})


# --- conversion -------------------------------------------------------------------------------


def _renamed_release(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s state under other names, as a foreign release would hold it, plus junk to ignore."""
    state = {"net." + k.replace("video_encoder.", "backbone.").replace("head.", "classifier."): v.clone()
             for k, v in model.state_dict().items()}  # fmt: skip
    state["net.loss.weight"] = torch.tensor([1.0, 2.0])
    return state


def test_key_mapping_load_of_a_renamed_state_dict(tmp_path: Path) -> None:
    model = _tiny("lam")
    src = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": _renamed_release(model), "hyper_parameters": _cfg()}, src)
    (tmp_path / "map.yaml").write_text(
        "task: lam\ncontainer: lightning\nstrip_prefixes: ['net.']\n"
        "renames:\n  - ['^backbone\\.', 'video_encoder.']\n  - ['^classifier\\.', 'head.']\n"
        "ignore: ['^loss\\.']\n"
    )
    fresh = build_ts_model("lam", "tiny").eval()
    report = convert_checkpoint("lam", src, tmp_path / "out.safetensors", model=fresh, mapping=tmp_path / "map.yaml")
    assert report.ignored == ["net.loss.weight"]
    meta = load_converted(fresh, tmp_path / "out.safetensors")
    assert meta["task"] == "lam" and meta["source"] == "foreign.ckpt"
    for key, value in _outputs(model, "lam").items():
        torch.testing.assert_close(_outputs(fresh, "lam")[key], value, rtol=0, atol=0)


def test_wrong_checkpoint_reports_every_problem_at_once(tmp_path: Path) -> None:
    model = _tiny("lam")
    state = dict(model.state_dict())
    state.pop("lstm.weight_hh_l0")  # missing
    state["extra.bias"] = torch.zeros(3)  # unexpected
    state["head.1.weight"] = torch.zeros(5, 16)  # wrong shape
    state.pop("video_encoder.bn1.num_batches_tracked")  # tolerated
    src = tmp_path / "bad.pth"
    torch.save(state, src)
    mapping = KeyMapping("lam", container="flat")
    with pytest.raises(UserInputError) as info:
        convert_checkpoint("lam", src, tmp_path / "o.safetensors", model=model, mapping=mapping)
    message = str(info.value)
    assert "1 missing key(s): lstm.weight_hh_l0" in message
    assert "1 unexpected key(s): extra.bias" in message
    assert "head.1.weight (file (5, 16), model (2, 16))" in message
    assert "num_batches_tracked" not in message and str(src) in message
    assert not (tmp_path / "o.safetensors").exists()


def test_missing_batchnorm_counters_are_filled(tmp_path: Path) -> None:
    model = _tiny("lam")
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, tmp_path / "old.pth")
    report = convert_checkpoint(
        "lam", tmp_path / "old.pth", tmp_path / "o.safetensors", model=model, mapping=KeyMapping("lam")
    )
    assert report.filled and all(k.endswith("num_batches_tracked") for k in report.filled)


def test_mapping_of_another_task_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not 'ttm'"):
        convert_checkpoint("ttm", tmp_path / "x.pth", tmp_path / "y.safetensors", mapping=load_key_mapping("lam"))


@pytest.mark.parametrize("task", ["lam", "ttm", "asd"])
def test_save_load_round_trip_gives_identical_outputs(tmp_path: Path, task: str) -> None:
    model = _tiny(task)
    with torch.no_grad():  # make BatchNorm statistics non-trivial
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_()
    save_converted(model, tmp_path / "m.safetensors")
    fresh = build_ts_model(task, "tiny").eval()
    assert load_converted(fresh, tmp_path / "m.safetensors")["task"] == task
    before, after = _outputs(model, task), _outputs(fresh, task)
    for key in before:
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)


def test_loading_a_file_of_another_task_or_size_fails(tmp_path: Path) -> None:
    save_converted(_tiny("lam"), tmp_path / "lam.safetensors")
    with pytest.raises(UserInputError, match="not 'ttm'"):
        load_converted(build_ts_model("ttm", "tiny"), tmp_path / "lam.safetensors")
    with pytest.raises(UserInputError, match="shape mismatch"):
        load_converted(build_ts_model("lam", "full"), tmp_path / "lam.safetensors")


def test_safetensors_sources_convert_as_is(tmp_path: Path) -> None:
    model = _tiny("asd")
    save_converted(model, tmp_path / "a.safetensors")
    fresh = build_ts_model("asd", "tiny").eval()
    convert_checkpoint("asd", tmp_path / "a.safetensors", tmp_path / "b.safetensors", model=fresh)
    load_converted(fresh, tmp_path / "b.safetensors")
    torch.testing.assert_close(_outputs(fresh, "asd")["logits"], _outputs(model, "asd")["logits"], rtol=0, atol=0)


# --- command line -----------------------------------------------------------------------------


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_convert.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_converts_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _tiny("lam")
    src = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": _renamed_release(model)}, src)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "task: lam\ncontainer: lightning\nstrip_prefixes: ['net.']\n"
        "renames: [['^backbone\\.', 'video_encoder.'], ['^classifier\\.', 'head.']]\nignore: ['^loss\\.']\n"
    )
    # the CLI converts against the full-size model: a tiny checkpoint is a clear shape error
    args = _cli(["lam", str(src), "--out", str(tmp_path / "o.safetensors"), "--mapping", str(mapping)])
    with pytest.raises(UserInputError, match="shape mismatch"):
        cli_convert.run(args)
    full = build_ts_model("lam", "full")
    torch.save({"state_dict": _renamed_release(full)}, src)
    del full
    assert cli_convert.run(args) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "o.safetensors").is_file()


def test_cli_main_exit_code_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from egot2.cli import main

    assert main(["convert-checkpoint", "lam", str(tmp_path / "none.pth"), "--out", str(tmp_path / "o.st")]) == 2
    assert "not found" in capsys.readouterr().err


def test_pickle_module_is_complete() -> None:
    from egot2.checkpoints import restricted_pickle

    data = pickle.dumps({"a": [1, 2.5, "x", (None, True)]}, protocol=2)
    assert restricted_pickle.loads(data) == {"a": [1, 2.5, "x", (None, True)]}
