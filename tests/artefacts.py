"""Content snapshots of folders, for tests that check a failing command changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and folder under ``roots`` with its content hash."""
    out = {}
    for root in roots:
        for p in sorted([root, *root.rglob("*")]) if root.exists() else []:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out
