"""Reading checkpoint files (safetensors, torch zip or legacy pickles) and finding their state dict.

:func:`read_checkpoint` opens a file without running code from it: safetensors as is; a torch file
first with ``torch.load(weights_only=True)`` and, when the file pickles more than weights (the
Lightning files' config objects), with the :mod:`~egot2.checkpoints.unpickler` that rebuilds only
data. A truncated or corrupt file is a :class:`~egot2.errors.UserInputError` naming the file.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from egot2.checkpoints.unpickler import restricted_pickle
from egot2.errors import UserInputError

CONTAINERS: tuple[str, ...] = ("lightning", "dict", "flat")
_SAFETENSORS_SUFFIX = ".safetensors"


def _looks_like_safetensors(path: Path) -> bool:
    if path.suffix == _SAFETENSORS_SUFFIX:
        return True
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a safetensors file."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = dict(fh.metadata() or {})
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118 (not a dict)
    except Exception as exc:  # safetensors raises its own SafetensorError and OSError subclasses
        raise UserInputError(
            f"not a readable safetensors file (truncated or corrupt?): {exc}", file=path
        ) from None
    return tensors, metadata


def read_checkpoint(path: str | Path, *, allow_pickle: bool = True) -> Any:
    """Open a checkpoint file and return the object it holds, without running code from it.

    Args:
        path: a ``.safetensors`` file, a torch zip file (``torch.save`` since 1.6) or a legacy pickle.
        allow_pickle: if False, a file that ``torch.load(weights_only=True)`` refuses is an error
            instead of being read by the restricted unpickler.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError("checkpoint file not found", file=path)
    if _looks_like_safetensors(path):
        return read_safetensors(path)[0]
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not allow_pickle:
            raise UserInputError(
                f"the file pickles objects other than tensors and plain data ({unpickling_reason(exc)}); "
                "read it with the restricted unpickler (allow_pickle=True)",
                file=path,
            ) from None
    except Exception as exc:
        raise _corrupt(path, exc) from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=restricted_pickle)
    except Exception as exc:
        raise _corrupt(path, exc) from None


def unpickling_reason(exc: BaseException) -> str:
    """The line of a ``torch.load(weights_only=True)`` refusal that says what was refused (e.g. ``Trying to
    load unsupported GLOBAL posix.system ...``), not torch's generic preamble."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or line.startswith("Unsupported"):
            return line
    return lines[0] if lines else type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _corrupt(path: Path, exc: BaseException) -> UserInputError:
    with open(path, "rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    kind = "a torch zip archive" if zipped else "a legacy torch/pickle file"
    return UserInputError(
        f"cannot read the checkpoint as {kind} (truncated or corrupt?): {type(exc).__name__}: {_first_line(exc)}",
        file=path,
    )


def extract_state_dict(obj: Any, container: str, *, file: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The flat ``{key: tensor}`` state dict inside a loaded checkpoint object.

    Args:
        obj: what :func:`read_checkpoint` returned.
        container: ``"lightning"`` or ``"dict"`` (tensors under ``obj["state_dict"]``) or ``"flat"``
            (the object itself). A flat dict of tensors is accepted for every container, so that an
            already-extracted state dict or a safetensors file converts too.
        file: the file, for error messages.

    Non-tensor entries (e.g. ``_extra_state``) are dropped.
    """
    if container not in CONTAINERS:
        raise UserInputError(f"unknown container {container!r}; valid: {list(CONTAINERS)}", field="container")
    if not isinstance(obj, Mapping):
        raise UserInputError(
            f"the checkpoint holds a {type(obj).__name__}, expected a dict (container {container!r})", file=file
        )
    if container != "flat" and "state_dict" in obj:
        state = obj["state_dict"]
        if not isinstance(state, Mapping):
            raise UserInputError(
                f"'state_dict' is a {type(state).__name__}, expected a dict of tensors", file=file, field="state_dict"
            )
    elif any(isinstance(v, torch.Tensor) for v in obj.values()):
        state = obj
    else:
        raise UserInputError(
            f"no state dict found: expected a 'state_dict' entry (container {container!r}) or a flat dict of "
            f"tensors; top-level keys: {sorted(map(str, obj))[:12]}",
            file=file,
        )
    return {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
