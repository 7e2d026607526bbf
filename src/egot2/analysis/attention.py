"""Attention mass per task from a translator's attention weights (paper Fig. 1, 5)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor


def task_attention_mass(
    attention: Tensor, segments: Sequence[tuple[str, int, int]], query: slice | None = None
) -> dict[str, float]:
    """Share of attention that the ``query`` tokens put on each task's tokens.

    Args:
        attention: one layer's weights (B, heads, N, N); rows sum to 1.
        segments: ``(stream key "task.stream", start, end)`` of each stream.
        query: which query positions to average over (default: all).

    Returns:
        ``{task: mass}`` averaged over batch, heads and queries; the masses sum to 1.
    """
    rows = attention[:, :, query if query is not None else slice(None), :]  # (B, H, Q, N)
    per_key = rows.mean(dim=(0, 1, 2))  # (N,)
    out: dict[str, float] = {}
    for key, start, end in segments:
        task = key.split(".")[0]
        out[task] = out.get(task, 0.0) + float(per_key[start:end].sum())
    return out
