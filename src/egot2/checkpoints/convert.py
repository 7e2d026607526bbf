"""Converting released TS checkpoints to our safetensors format, and loading the result.

``convert_checkpoint(task, src, dst)`` reads ``src`` in the authors' layout, maps its keys through the
task's :class:`~egot2.checkpoints.mapping.KeyMapping`, checks every tensor against the state dict of
our full-size model (missing keys, unexpected keys and shape mismatches reported together in one
error) and writes ``dst`` atomically. :func:`load_converted` loads such a file into a model with the
same checks; :func:`save_converted` writes a model's own state (a round trip reproduces it exactly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from egot2 import __version__
from egot2.checkpoints.mapping import KeyMapping, load_key_mapping
from egot2.checkpoints.reader import extract_state_dict, read_checkpoint, read_safetensors
from egot2.errors import UserInputError
from egot2.utils.atomic import atomic_path

FORMAT = "egot2-ts-1"
_LISTED = 12  # keys listed per category in an error message


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`convert_checkpoint` did.

    Args:
        task: the task.
        src: the released file read.
        dst: the safetensors file written.
        tensors: tensors written.
        ignored: original keys the mapping dropped.
        filled: model keys absent from the file that were filled with their default value
            (only ``num_batches_tracked`` counters).
        mapping: the mapping file used.
    """

    task: str
    src: str
    dst: str
    tensors: int
    ignored: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    mapping: str | None = None


def build_target(task: str) -> nn.Module:
    """Our full-size TS model of ``task``, built on the meta device when it can be (no memory, fast)."""
    from egot2.backbones import build_ts_model

    try:
        with torch.device("meta"):
            return build_ts_model(task, "full")
    except UserInputError:
        raise
    except Exception:
        return build_ts_model(task, "full")


def _tolerated_missing(key: str) -> bool:
    return key.endswith("num_batches_tracked")


def _listing(title: str, items: list[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    more = f" ... and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return f"{len(items)} {title}: {shown}{more}"


def check_state_dict(
    state: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    *,
    file: str | Path | None = None,
    what: str = "checkpoint",
) -> list[str]:
    """Compare ``state`` with ``expected`` (a model's state dict); raise one error listing every problem.

    Missing keys, unexpected keys and shape mismatches are collected and reported together. A missing
    ``num_batches_tracked`` counter is tolerated; the tolerated keys are returned.
    """
    missing = [k for k in expected if k not in state and not _tolerated_missing(k)]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k} (file {tuple(state[k].shape)}, model {tuple(expected[k].shape)})"
        for k in state
        if k in expected and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or mismatched:
        parts = [
            _listing(title, items)
            for title, items in (
                ("missing key(s)", missing),
                ("unexpected key(s)", unexpected),
                ("shape mismatch(es)", mismatched),
            )
            if items
        ]
        raise UserInputError(f"{what} does not match the model: " + "; ".join(parts), file=file)
    return [k for k in expected if k not in state]


def _complete(state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` in the model's key order and dtypes, counters the file lacks filled with 0."""
    out: dict[str, torch.Tensor] = {}
    for key, ref in expected.items():
        if key in state:
            tensor = state[key]
            if tensor.dtype != ref.dtype and (tensor.is_floating_point() or ref.is_floating_point()):
                tensor = tensor.to(ref.dtype)
            out[key] = tensor
        else:
            out[key] = torch.zeros((), dtype=ref.dtype)
    return out


def write_safetensors(state: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    """Write ``state`` (contiguous, unshared copies) with string ``metadata``, atomically."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def convert_checkpoint(
    task: str,
    src: str | Path,
    dst: str | Path,
    *,
    model: nn.Module | None = None,
    mapping: KeyMapping | str | Path | None = None,
    allow_pickle: bool = True,
) -> ConversionReport:
    """Convert a released TS checkpoint of ``task`` to our safetensors format.

    Args:
        task: the task (selects the mapping ``configs/checkpoints/<task>.yaml`` and the model).
        src: the released file (Lightning ``.ckpt``, a ``torch.save`` dict, a flat state dict or
            safetensors).
        dst: the ``.safetensors`` file to write.
        model: the target model; by default our full-size model of ``task`` (built on the meta device).
        mapping: a :class:`KeyMapping` or the path of a mapping file; by default the task's.
        allow_pickle: read files that pickle config objects with the restricted unpickler.
    """
    if not isinstance(mapping, KeyMapping):
        mapping = load_key_mapping(task if mapping is None else mapping)
    if mapping.task != task:
        raise UserInputError(f"the mapping is for task {mapping.task!r}, not {task!r}", file=mapping.source, field="task")
    obj = read_checkpoint(src, allow_pickle=allow_pickle)
    raw = extract_state_dict(obj, mapping.container, file=src)
    state, ignored = mapping.apply(raw)
    expected = (model if model is not None else build_target(task)).state_dict()
    filled = check_state_dict(state, expected, file=src)
    out = _complete(state, expected)
    metadata = {
        "format": FORMAT,
        "task": task,
        "source": Path(src).name,
        "mapping": Path(mapping.source).name if mapping.source else "",
        "ignored": json.dumps(ignored),
        "egot2_version": __version__,
    }
    write_safetensors(out, dst, metadata)
    return ConversionReport(
        task=task, src=str(src), dst=str(dst), tensors=len(out), ignored=ignored, filled=filled, mapping=mapping.source
    )


def save_converted(model: nn.Module, path: str | Path, *, task: str | None = None) -> None:
    """Write ``model``'s state dict in our safetensors format (what :func:`load_converted` reads)."""
    task = task if task is not None else str(getattr(model, "task", ""))
    write_safetensors(
        model.state_dict(), path, {"format": FORMAT, "task": task, "source": "", "egot2_version": __version__}
    )


def load_converted(model: nn.Module, path: str | Path) -> dict[str, str]:
    """Load a converted (or saved) safetensors file into ``model``; returns the file's metadata.

    A file of another task, or whose keys or shapes differ from the model's, is an error that lists
    every difference at once.
    """
    state, metadata = read_safetensors(path)
    model_task = getattr(model, "task", "")
    file_task = metadata.get("task", "")
    if model_task and file_task and model_task != file_task:
        raise UserInputError(f"the file holds a {file_task!r} model, not {model_task!r}", file=path, field="task")
    expected = model.state_dict()
    check_state_dict(state, expected, file=path)
    model.load_state_dict(_complete(state, expected), strict=True)
    return metadata
