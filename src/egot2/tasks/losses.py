"""Task losses, one per output kind, configured by the task's :class:`LossSpec`.

Labels come as a dict: ``label`` (B,) for keyframe/binary, ``label`` (B, T) with -100 for padding for
per-frame tasks, ``verb``/``noun`` (B,) for AR and (B, Z) for LTA.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from egot2.tasks.spec import OutputKind, TaskSpec

IGNORE_INDEX = -100


def _weights(spec: TaskSpec, like: Tensor) -> Tensor | None:
    w = spec.loss.class_weights
    return None if w is None else torch.tensor(w, dtype=like.dtype, device=like.device)


def task_loss(spec: TaskSpec, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
    """The training loss of ``spec`` for head ``outputs`` against ``labels`` (a scalar)."""
    kind = spec.output.kind
    if kind is OutputKind.KEYFRAME and spec.loss.kind == "bce_onehot":
        logits = outputs["logits"]  # (B, N)
        target = F.one_hot(labels["label"].long(), logits.shape[-1]).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target)
    if kind in (OutputKind.KEYFRAME, OutputKind.BINARY):
        logits = outputs["logits"]
        return F.cross_entropy(logits, labels["label"].long(), weight=_weights(spec, logits))
    if kind is OutputKind.FRAME_BINARY:
        logits = outputs["logits"]  # (B, T, C)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),  # (B*T, C)
            labels["label"].long().reshape(-1),
            weight=_weights(spec, logits),
            ignore_index=IGNORE_INDEX,
        )
    if kind in (OutputKind.VERB_NOUN, OutputKind.SEQUENCE):
        total = outputs["verb"].new_zeros(())
        for key in ("verb", "noun"):
            logits = outputs[key]
            total = total + F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), labels[key].long().reshape(-1), ignore_index=IGNORE_INDEX
            )
        return total
    raise ValueError(f"no loss for output kind {kind}")  # pragma: no cover
