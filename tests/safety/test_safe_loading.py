"""Safe loading: a pickle that would run code when loaded is refused (or, by the converter's restricted
unpickler, defused) wherever egot2 reads a checkpoint, and the code never runs; every ``torch.load`` in
the package reads weights only."""

from __future__ import annotations

import ast
import contextlib
import io
import pickle
from pathlib import Path

import pytest
import torch

import egot2
from egot2.cli import main

SRC = Path(egot2.__file__).parent


class Evil:
    """Unpickling this runs ``touch MARKER`` (a stand-in for any code a hostile file would run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.system, (f"touch {self.marker}",))


def _cli(*argv: object) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """The same hostile payload as a torch zip checkpoint, a raw pickle and a pickle posing as safetensors,
    plus the marker file its code would create."""
    marker = tmp_path / "code-ran"
    payload = {"state_dict": {"w": torch.ones(2)}, "hook": Evil(marker)}
    files = {"marker": marker, "zip": tmp_path / "hostile.ckpt", "raw": tmp_path / "hostile.pth",
             "disguised": tmp_path / "hostile.safetensors"}
    torch.save(payload, files["zip"])
    plain = {"state_dict": {"w": [1.0, 2.0]}, "hook": Evil(marker)}  # no tensors: os.system is the first global
    files["raw"].write_bytes(pickle.dumps(plain, protocol=2))
    files["disguised"].write_bytes(pickle.dumps(plain, protocol=2))
    assert not marker.exists()
    return files


def test_every_torch_load_reads_weights_only() -> None:
    """``torch.load`` in the package passes ``weights_only=True``; the one exception is the converter's
    restricted unpickler (``pickle_module=restricted_pickle``); every resuming ``fit`` passes it too."""
    calls = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            safe = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
            if node.func.attr == "load" and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                restricted = isinstance(kw.get("pickle_module"), ast.Name) and kw["pickle_module"].id == "restricted_pickle"
                calls.append(path.name)
                assert safe or restricted, f"{path}:{node.lineno}: torch.load without weights_only=True"
            if node.func.attr == "fit" and "ckpt_path" in kw:
                assert safe, f"{path}:{node.lineno}: Trainer.fit(ckpt_path=...) without weights_only=True"
    assert len(calls) >= 5  # the scan sees the calls (stages 1 and 2, EgoT2-g, resume check, reader)


def test_converter_refuses_or_defuses_and_never_runs_the_code(hostile: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "converted.safetensors"
    for src in (hostile["zip"], hostile["raw"]):
        code, err = _cli("convert-checkpoint", "oscc", src, "--out", out, "--weights-only")
        assert code == 2 and "pickles objects other than tensors and plain data" in err, err
        assert "GLOBAL posix.system" in err, err
    # without --weights-only the restricted unpickler replaces os.system by an inert placeholder: the file is
    # read as data, and refused because it holds no OSCC weights
    code, err = _cli("convert-checkpoint", "oscc", hostile["zip"], "--out", out)
    assert code == 2 and "checkpoint does not match the model" in err, err
    code, err = _cli("convert-checkpoint", "oscc", hostile["raw"], "--out", out)
    assert code == 2 and "cannot read the checkpoint" in err, err
    assert not out.exists() and not hostile["marker"].exists()


@pytest.mark.parametrize("command", ["train", "train-ts"])
def test_resume_refuses_a_hostile_last_checkpoint(hostile: dict[str, Path], tmp_path: Path, command: str) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(hostile["zip"].read_bytes())
    args = (["--primary", "oscc", "--cache", tmp_path / "no-cache"] if command == "train"
            else ["--task", "oscc", "--data", tmp_path / "no-data"])
    code, err = _cli(command, *args, "--out", run, "--resume")
    assert code == 2, err
    assert "refusing to load a checkpoint that pickles objects other than tensors" in err, err
    assert "GLOBAL posix.system" in err and not hostile["marker"].exists()
    assert sorted(p.name for p in run.rglob("*")) == ["checkpoints", "last.ckpt"]  # nothing written


def test_ts_models_and_runs_are_never_unpickled(hostile: dict[str, Path], tiny_world: Path, tmp_path: Path) -> None:
    def extract(ts: Path) -> str:
        code, err = _cli("extract", "--primary", "oscc", "--data", tiny_world, "--ts", ts, "--aux",
                         "--out", tmp_path / "cache", "--quiet")
        assert code == 2, err
        return err

    assert "a released checkpoint, not a converted one" in extract(hostile["zip"])
    assert "not a readable safetensors file" in extract(hostile["disguised"])
    ts_run = tmp_path / "ts"
    ts_run.mkdir()
    (ts_run / "ts.json").write_text('{"task": "oscc", "size": "tiny"}')
    (ts_run / "model.safetensors").write_bytes(hostile["raw"].read_bytes())
    assert "not a readable safetensors file" in extract(ts_run)
    run = tmp_path / "run"  # a stage-II run folder whose weights are a pickle
    run.mkdir()
    (run / "config.yaml").write_text("model: {primary: oscc}\n")
    (run / "run.json").write_text("{}")
    (run / "model.safetensors").write_bytes(hostile["raw"].read_bytes())
    code, err = _cli("eval", run)
    assert code == 2 and "corrupt or truncated weights" in err, err
    assert not hostile["marker"].exists()
