"""Task heads, one per output kind, built from a :class:`TaskSpec`.

Clip-level heads pool the encoder output (masked mean over tokens), apply LayerNorm, then Linear
layers; the per-frame head (ASD) maps each of the primary task's own token positions to 2 logits, and
the per-frame keyframe head (PNR, ``model.keyframe_head: per-frame``) each frame token to one logit.
Every head returns a dict: ``logits`` for keyframe/binary/per-frame kinds, ``verb`` and ``noun`` for
AR and LTA.
"""

from __future__ import annotations

from torch import Tensor, nn

from egot2.tasks.spec import OutputKind, TaskSpec


def masked_mean(x: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over dim 1 of ``x`` (B, N, D), counting only positions where ``mask`` (B, N) is True."""
    if mask is None:
        return x.mean(dim=1)
    w = mask.to(x.dtype).unsqueeze(-1)  # (B, N, 1)
    return (x * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)


class ClipHead(nn.Module):
    """Pooled clip-level head: masked mean -> LayerNorm -> one Linear per named output.

    Args:
        dim: input feature size D.
        outputs: ``{name: size}``, e.g. ``{"logits": 2}`` or ``{"verb": 115, "noun": 478}``.
    """

    def __init__(self, dim: int, outputs: dict[str, int]) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.ModuleDict({name: nn.Linear(dim, size) for name, size in outputs.items()})

    def forward(self, x: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        pooled = self.norm(masked_mean(x, mask))  # (B, D)
        return {name: fc(pooled) for name, fc in self.fc.items()}


class SequenceHead(nn.Module):
    """Z future steps over verbs+nouns (LTA): pooled -> LayerNorm -> Z x Linear(D, V+N), split.

    The Z linear layers are stored as one Linear(D, Z*(V+N)) (same parameters, one matmul).

    Args:
        dim: input feature size D.
        steps: Z.
        num_verbs: V.
        num_nouns: N.
    """

    def __init__(self, dim: int, steps: int, num_verbs: int, num_nouns: int) -> None:
        super().__init__()
        self.steps, self.num_verbs, self.num_nouns = steps, num_verbs, num_nouns
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, steps * (num_verbs + num_nouns))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        pooled = self.norm(masked_mean(x, mask))  # (B, D)
        out = self.fc(pooled).view(x.shape[0], self.steps, self.num_verbs + self.num_nouns)  # (B, Z, V+N)
        return {"verb": out[..., : self.num_verbs], "noun": out[..., self.num_verbs :]}


class FrameHead(nn.Module):
    """Per-frame head on the primary task's own token positions: FC(D, classes) per frame.

    Args:
        dim: input feature size D.
        num_classes: classes per frame.
    """

    per_frame = True

    def __init__(self, dim: int, num_classes: int = 2) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        logits = self.fc(x)  # (B, T, C)
        if mask is not None:
            logits = logits.masked_fill(~mask.unsqueeze(-1), 0.0)
        return {"logits": logits}


class KeyframeFrameHead(nn.Module):
    """Per-frame keyframe head: LayerNorm -> ``Linear(D, 1)`` on each of the primary task's frame tokens,
    the T scores being the keyframe logits (as the TS PNR model scores its frames).

    Args:
        dim: input feature size D.
    """

    per_frame = True

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        logits = self.fc(self.norm(x)).squeeze(-1)  # (B, T, 1) -> (B, T)
        if mask is not None:
            logits = logits.masked_fill(~mask, -1e4)  # a padded position is never the keyframe
        return {"logits": logits}


def build_head(spec: TaskSpec, dim: int, keyframe: str = "pooled") -> nn.Module:
    """The head of ``spec``'s output kind over D-dimensional tokens (``keyframe``: ``pooled`` or
    ``per-frame``, the head of a keyframe task; see ``model.keyframe_head``)."""
    out = spec.output
    if out.kind is OutputKind.KEYFRAME and keyframe == "per-frame":
        return KeyframeFrameHead(dim)
    if out.kind in (OutputKind.KEYFRAME, OutputKind.BINARY):
        return ClipHead(dim, {"logits": out.num_classes})
    if out.kind is OutputKind.VERB_NOUN:
        return ClipHead(dim, {"verb": out.num_verbs, "noun": out.num_nouns})
    if out.kind is OutputKind.SEQUENCE:
        return SequenceHead(dim, out.steps, out.num_verbs, out.num_nouns)
    if out.kind is OutputKind.FRAME_BINARY:
        return FrameHead(dim, out.num_classes)
    raise ValueError(f"no head for output kind {out.kind}")  # pragma: no cover


def is_per_frame(spec: TaskSpec) -> bool:
    """Whether the task predicts one label per frame of its own tokens."""
    return spec.output.kind is OutputKind.FRAME_BINARY


