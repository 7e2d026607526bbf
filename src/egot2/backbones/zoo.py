"""Loading trained TS models: a stage-I run folder or a converted checkpoint file, with a content hash
that feature caches record (a cache made with other TS weights is refused)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from egot2.backbones import build_ts_model
from egot2.backbones.base import TSModel
from egot2.errors import UserInputError

WEIGHTS = "model.safetensors"
RELEASED_SUFFIXES = (".ckpt", ".pth", ".pt", ".pyth", ".pkl", ".bin")  # pickles: convert them first
TS_INFO = "ts.json"


@dataclass(frozen=True)
class LoadedTS:
    """A TS model with where it came from.

    Args:
        model: the model (in eval mode).
        task: its task.
        size: ``full`` or ``tiny``.
        path: the weights file.
        sha256: hash of the weights file's bytes.
    """

    model: TSModel
    task: str
    size: str
    path: Path
    sha256: str


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_ts_model(path: str | Path, task: str | None = None) -> LoadedTS:
    """Load a TS model from a run folder (``ts.json`` + ``model.safetensors``) or a ``.safetensors`` file
    written by ``egot2 convert-checkpoint`` (full size unless its metadata says otherwise)."""
    from egot2.checkpoints import load_converted, read_safetensors

    path = Path(path)
    if path.is_dir():
        info_path = path / TS_INFO
        if not info_path.exists():
            raise UserInputError(f"not a TS run folder: {TS_INFO} is missing", file=info_path)
        try:
            info = json.loads(info_path.read_text())
        except json.JSONDecodeError as exc:
            raise UserInputError(f"not valid JSON (line {exc.lineno})", file=info_path) from None
        file, file_task, size = path / WEIGHTS, info.get("task"), info.get("size", "tiny")
    else:
        if not path.exists():
            raise UserInputError("no such TS checkpoint", file=path)
        if path.suffix in RELEASED_SUFFIXES:  # never unpickled here: converting reads it safely, once
            raise UserInputError("a released checkpoint, not a converted one: run `egot2 convert-checkpoint TASK "
                                 f"{path.name} --out FILE.safetensors` and pass the .safetensors file (or a TS run "
                                 "folder)", file=path)
        file = path
        _, metadata = read_safetensors(path)
        file_task, size = metadata.get("task"), metadata.get("size", "full")
    if not file_task:
        raise UserInputError("the checkpoint does not say which task it is for", file=file, field="task")
    if task is not None and task != file_task:
        raise UserInputError(f"expected a {task!r} TS model, the file holds {file_task!r}", file=file, field="task")
    model = build_ts_model(file_task, size)
    load_converted(model, file)
    model.eval()
    return LoadedTS(model, file_task, size, file, file_sha256(file))
