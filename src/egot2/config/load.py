"""Loading configs: defaults from the dataclasses, YAML deltas, then ``a.b=value`` overrides.

An unknown or misspelt key, or a value of the wrong type, is a :class:`UserInputError` naming the key
and the file (or the override) it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from egot2.config.schema import Config
from egot2.errors import UserInputError

T = TypeVar("T")


def _merge(base: Any, delta: Any, source: str) -> Any:
    try:
        return OmegaConf.merge(base, delta)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        msg = str(exc).splitlines()[0]
        raise UserInputError(f"{msg} (in {source})", file=source if Path(source).exists() else None,
                             field=key) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserInputError(f"cannot read config: {exc.strerror}", file=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UserInputError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserInputError(f"a config file must hold a mapping, got {type(data).__name__}", file=path)
    return data


def load_config(
    files: Sequence[str | Path] = (), overrides: Sequence[str] = (), schema: type[T] = Config  # type: ignore[assignment]
) -> T:
    """Build a config: ``schema`` defaults, then each YAML file in order, then ``a.b=value`` overrides."""
    cfg = OmegaConf.structured(schema)
    for f in files:
        path = Path(f)
        cfg = _merge(cfg, OmegaConf.create(_read_yaml(path)), str(path))
    for item in overrides:
        if "=" not in item:
            raise UserInputError(f"an override must look like key.sub=value, got {item!r}", field=item)
        cfg = _merge(cfg, OmegaConf.from_dotlist([item]), f"override {item!r}")
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise UserInputError(str(exc).splitlines()[0], field=getattr(exc, "full_key", None)) from None
    except UserInputError as exc:
        culprits = [f"override {o!r}" for o in overrides if exc.field and o.partition("=")[0].strip() == exc.field]
        where = culprits[-1] if culprits else ", ".join(str(f) for f in files) or "defaults"
        raise UserInputError(f"{exc.detail} (in {where})", file=exc.file, field=exc.field) from None
    return obj  # type: ignore[return-value]


def config_to_yaml(cfg: Any) -> str:
    """The resolved config as YAML (saved next to every run's outputs)."""
    return yaml.safe_dump(asdict(cfg), sort_keys=False)
