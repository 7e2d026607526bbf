"""Loading trained TS models: a stage-I run folder or a converted checkpoint file, with a content hash
that feature caches record (a cache made with other TS weights is refused)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
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


def locate_ts(path: str | Path, task: str | None = None) -> tuple[Path, str, str]:
    """``(weights file, task, size)`` of a TS run folder (``ts.json`` + ``model.safetensors``) or of a
    ``.safetensors`` file written by ``egot2 convert-checkpoint`` (full size unless its metadata says
    otherwise), without building the model.

    ``task``: the task the file must hold. A copy name (``ttm_copy1``: the paper Table 4 ablation's extra
    copies of the primary's TS model) takes a model of its source task (``ttm``) as that copy; a file
    saved under a copy name (a fine-tuned copy) holds a model of the source task.
    """
    from egot2.checkpoints import read_safetensors
    from egot2.tasks.copies import source_task

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
    if task is not None and source_task(task) != source_task(file_task):
        raise UserInputError(f"expected a {source_task(task)!r} TS model, the file holds {file_task!r}", file=file,
                             field="task")
    return file, task or file_task, size


def load_ts_model(path: str | Path, task: str | None = None) -> LoadedTS:
    """Load a TS model (:func:`locate_ts` says from where, and which ``task`` it may be loaded as)."""
    from egot2.checkpoints import load_converted
    from egot2.tasks.copies import ensure_copies, parse_copy, source_task

    file, name, size = locate_ts(path, task)
    copy = parse_copy(name)
    if copy is not None:
        ensure_copies(*copy)
    model = build_ts_model(source_task(name), size)
    load_converted(model, file)
    model.eval()
    return LoadedTS(model, name, size, file, file_sha256(file))


_NAMED = re.compile(r"([A-Za-z][A-Za-z0-9_]*)=(.+)")


def parse_ts_arg(value: str | Path) -> tuple[str | None, Path]:
    """One ``--ts`` entry ``[TASK=]PATH`` -> ``(TASK or None, PATH)`` (a path that exists as given is never
    split)."""
    text = str(value)
    m = _NAMED.fullmatch(text)
    if m is None or Path(text).exists():
        return None, Path(text)
    return m.group(1), Path(m.group(2))


def ts_entry(value: str | Path, base: Path | None = None) -> str:
    """A ``--ts`` entry with its path absolute (relative paths taken from ``base``, default the current
    folder), its ``TASK=`` kept: what a run records to load the same models again."""
    task, path = parse_ts_arg(value)
    path = (base / path if base is not None and not path.is_absolute() else path).resolve()
    return f"{task}={path}" if task else str(path)


def load_ts_models(ts: Sequence[str | Path]) -> dict[str, LoadedTS]:
    """``{task: model}`` of ``--ts`` entries ``[TASK=]PATH``: a plain path is keyed by the task its file
    holds; ``TASK=PATH`` checks that task (``ttm_copy1=runs/ttm-seed1`` loads a TTM model as copy 1 of
    ``model.primary_copies``). Two entries for one task are an error."""
    models: dict[str, LoadedTS] = {}
    for entry in ts:
        task, path = parse_ts_arg(entry)
        m = load_ts_model(path, task)
        if m.task in models:
            raise UserInputError(f"two --ts models for task {m.task!r}: {models[m.task].path} and {m.path} (name "
                                 "extra copies of a TS model TASK_copyN=PATH)", field="--ts")
        models[m.task] = m
    return models


def ts_hashes(ts: Sequence[str | Path]) -> dict[str, str]:
    """``{task: sha256 of its weights}`` of ``--ts`` entries, without building the models."""
    out = {}
    for entry in ts:
        task, path = parse_ts_arg(entry)
        file, name, _ = locate_ts(path, task)
        out[name] = file_sha256(file)
    return out
