"""Key-mapping files: how the keys of a released checkpoint become the keys of our modules.

One YAML file per task under ``configs/checkpoints/`` (format documented in that folder's README)::

    task: ttm
    container: dict              # lightning | dict | flat (see reader.extract_state_dict)
    strip_prefixes: ["module."]  # tried in order; the first that matches is removed
    renames:                     # ordered regex substitutions (re.sub), applied after stripping
      - ["^lossAV\\.FC\\.", "head.av."]
    ignore: ["^last_layer[12]\\."]  # keys (after strip + rename) dropped without complaint

Unknown fields are an error, and so is a regex that does not compile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from egot2.checkpoints.reader import CONTAINERS
from egot2.errors import UserInputError

_FIELDS = ("task", "container", "strip_prefixes", "renames", "ignore")


def mappings_dir() -> Path:
    """``configs/checkpoints/`` of this checkout."""
    return Path(__file__).resolve().parents[3] / "configs" / "checkpoints"


@dataclass(frozen=True)
class KeyMapping:
    """How to turn a released checkpoint's keys into ours.

    Args:
        task: the task whose TS model the checkpoint holds.
        container: ``"lightning"``, ``"dict"`` or ``"flat"``.
        strip_prefixes: prefixes tried in order; the first that matches a key is removed from it.
        renames: ordered ``(pattern, replacement)`` regex substitutions applied after stripping.
        ignore: regexes; a key (after strip and renames) that matches one is dropped silently.
        source: the file the mapping came from, if any.
    """

    task: str
    container: str = "flat"
    strip_prefixes: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    def map_key(self, key: str) -> str:
        """``key`` after prefix stripping and the renames."""
        for prefix in self.strip_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                break
        for pattern, replacement in self.renames:
            key = re.sub(pattern, replacement, key)
        return key

    def is_ignored(self, key: str) -> bool:
        """Whether a mapped key is dropped without complaint."""
        return any(re.search(pattern, key) for pattern in self.ignore)

    def apply(self, state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
        """Map every key of ``state``; returns the mapped tensors and the (original) ignored keys.

        Two file keys that map onto the same key are an error.
        """
        mapped: dict[str, torch.Tensor] = {}
        origin: dict[str, str] = {}
        ignored: list[str] = []
        for key, tensor in state.items():
            new = self.map_key(key)
            if self.is_ignored(new):
                ignored.append(key)
                continue
            if new in mapped:
                raise UserInputError(
                    f"checkpoint keys {origin[new]!r} and {key!r} both map to {new!r}; fix the renames",
                    file=self.source,
                    field="renames",
                )
            mapped[new] = tensor
            origin[new] = key
        return mapped, ignored


def _strings(value: Any, name: str, source: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserInputError("expected a list of strings", file=source, field=name)
    return tuple(value)


def _compile(pattern: str, name: str, source: Path) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UserInputError(f"invalid regular expression {pattern!r}: {exc}", file=source, field=name) from None


def parse_key_mapping(raw: Any, source: Path) -> KeyMapping:
    """Validate the parsed YAML of a mapping file."""
    if not isinstance(raw, dict):
        raise UserInputError("expected a mapping with fields " + ", ".join(_FIELDS), file=source)
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise UserInputError(f"unknown field(s) {unknown}; valid: {list(_FIELDS)}", file=source, field=unknown[0])
    if not isinstance(raw.get("task"), str):
        raise UserInputError("expected the task name", file=source, field="task")
    container = raw.get("container", "flat")
    if container not in CONTAINERS:
        raise UserInputError(f"expected one of {list(CONTAINERS)}, got {container!r}", file=source, field="container")
    renames_raw = raw.get("renames") or []
    if not isinstance(renames_raw, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(s, str) for s in r) for r in renames_raw
    ):
        raise UserInputError("expected a list of [pattern, replacement] pairs", file=source, field="renames")
    renames = tuple((p, r) for p, r in renames_raw)
    ignore = _strings(raw.get("ignore"), "ignore", source)
    for pattern, _ in renames:
        _compile(pattern, "renames", source)
    for pattern in ignore:
        _compile(pattern, "ignore", source)
    return KeyMapping(
        task=raw["task"],
        container=container,
        strip_prefixes=_strings(raw.get("strip_prefixes"), "strip_prefixes", source),
        renames=renames,
        ignore=ignore,
        source=str(source),
    )


def load_key_mapping(task_or_path: str | Path) -> KeyMapping:
    """The key mapping of a task (``configs/checkpoints/<task>.yaml``) or of an explicit YAML path."""
    candidate = Path(task_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        path = candidate
    else:
        path = mappings_dir() / f"{task_or_path}.yaml"
        if not path.is_file():
            shipped = sorted(p.stem for p in mappings_dir().glob("*.yaml"))
            raise UserInputError(
                f"no key-mapping file for task {str(task_or_path)!r} at {path}; shipped: {shipped}", field="task"
            )
    if not path.is_file():
        raise UserInputError("key-mapping file not found", file=path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserInputError(f"not valid YAML: {exc}", file=path) from None
    return parse_key_mapping(raw, path)
