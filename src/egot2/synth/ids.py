"""Deterministic UUID-shaped ids (Ego4D ids are UUIDs): the same world seed gives the same ids."""

from __future__ import annotations

import hashlib
import uuid


def stable_uuid(seed: int, kind: str, split: str, index: int) -> str:
    """A version-4-shaped UUID string derived from ``(seed, kind, split, index)`` alone."""
    digest = hashlib.sha256(f"egot2-synth/{seed}/{kind}/{split}/{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
