"""Checks on the token streams handed to a translator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from egot2.errors import UserInputError
from egot2.translator.layout import InputStream


def check_streams(
    layout: Sequence[InputStream], streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
) -> None:
    """Every stream of ``layout`` is present with shape (B, T_k, D_k) and one batch size B."""
    missing = [s.key for s in layout if s.key not in streams]
    if missing:
        raise UserInputError(f"missing token streams {missing}; got {sorted(streams)}", field="streams")
    batch = None
    for s in layout:
        x = streams[s.key]
        if x.ndim != 3 or x.shape[-1] != s.dim:
            raise UserInputError(
                f"stream {s.key!r} must be (B, T, {s.dim}), got {tuple(x.shape)}", field=f"streams.{s.key}"
            )
        if s.tokens is not None and x.shape[1] != s.tokens:
            raise UserInputError(
                f"stream {s.key!r} must have {s.tokens} tokens, got {x.shape[1]}", field=f"streams.{s.key}"
            )
        if batch is None:
            batch = x.shape[0]
        elif x.shape[0] != batch:
            raise UserInputError(f"stream {s.key!r} has batch {x.shape[0]}, expected {batch}",
                                 field=f"streams.{s.key}")
        m = (masks or {}).get(s.key)
        if m is not None and tuple(m.shape) != tuple(x.shape[:2]):
            raise UserInputError(f"mask of {s.key!r} must be {tuple(x.shape[:2])}, got {tuple(m.shape)}",
                                 field=f"masks.{s.key}")
