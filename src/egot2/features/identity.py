"""What a cache's streams depend on, and the check that a run reads only caches with the streams it was
trained on (``egot2 eval --cache``, ``egot2 train --resume``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from egot2.errors import UserInputError
from egot2.features.cache import read_meta

#: What a cache's streams depend on: a run trained on one cache reads another only if these agree.
IDENTITY_KEYS = ("primary", "ts", "windows", "strides", "profile")


def cache_identity(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a cache's ``meta.json`` its streams depend on: primary, TS models (sha256 and size),
    windows and strides, frame profile (:data:`IDENTITY_KEYS`)."""
    return {k: meta.get(k) for k in IDENTITY_KEYS}


def check_identity(root: str | Path, recorded: Mapping[str, Any] | None, what: str) -> None:
    """Refuse cache ``root`` unless its :func:`cache_identity` equals ``recorded`` (the one ``what`` was
    trained on; nothing is checked when ``recorded`` is None, as for runs written before it was kept)."""
    if recorded is None:
        return
    have = cache_identity(read_meta(root))
    diffs = []
    for key in IDENTITY_KEYS:
        a, b = have.get(key), recorded.get(key)
        if a == b:
            continue
        if key == "ts" and isinstance(a, dict) and isinstance(b, dict):
            for task in sorted(set(a) | set(b)):
                x, y = (a.get(task) or {}).get("sha256"), (b.get(task) or {}).get("sha256")
                if x != y:
                    diffs.append(f"TS model {task!r}: this cache's sha256 {str(x)[:12]}..., {what}'s "
                                 f"{str(y)[:12]}...")
        else:
            diffs.append(f"{key}: this cache has {a!r}, {what}'s had {b!r}")
    if diffs:
        raise UserInputError(f"the cache holds other streams than the one {what} was trained on ("
                             + "; ".join(diffs) + "): extract it with the same TS models and settings",
                             file=Path(root) / "meta.json", field="ts" if any("TS model" in d for d in diffs)
                             else diffs[0].split(":")[0])
