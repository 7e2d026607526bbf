"""Naming of per-stream projection modules."""

from __future__ import annotations


def module_key(stream_key: str) -> str:
    """``nn.ModuleDict`` keys cannot hold dots: ``"ar.slow"`` -> ``"ar__slow"``."""
    return stream_key.replace(".", "__")
