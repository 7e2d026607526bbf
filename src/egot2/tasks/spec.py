"""TaskSpec: everything that is specific to one task, in one typed object.

Models, training and evaluation stay generic over tasks; they ask the spec for the clip span, the
frame rate, the modalities, the token streams its task-specific (TS) model emits, the output kind, the
loss and how to build the head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from torch import Tensor, nn

from egot2.errors import UserInputError

Modality = str  # "video" or "audio"
MODALITIES: tuple[str, ...] = ("video", "audio")
CLUSTERS: tuple[str, ...] = ("human-object", "human-human")


class OutputKind(str, Enum):
    """The shape of a task's label and prediction."""

    KEYFRAME = "keyframe"  # one of N sampled frames (PNR: 16), BCE against a one-hot target
    BINARY = "binary"  # one of two classes per clip (OSCC, LAM, TTM)
    VERB_NOUN = "verb_noun"  # a verb class and a noun class per clip (AR)
    SEQUENCE = "sequence"  # Z future (verb, noun) pairs (LTA)
    FRAME_BINARY = "frame_binary"  # one of two classes per frame of the primary's own tokens (ASD)


@dataclass(frozen=True)
class StreamSpec:
    """One token stream a TS model emits for one input window.

    Args:
        name: stream name, unique within the task (``"tokens"``, ``"slow"``, ``"frames"`` ...).
        tokens: T_k, tokens per window; ``None`` means one token per input frame (any length).
        dim: D_k, the per-token feature size.
        modalities: what must be available to compute the stream.
        fallback_for: name of a richer stream of the same model that this one replaces when that
            stream cannot be computed (e.g. ASD's video-only pathway for a video-only primary).
    """

    name: str
    tokens: int | None
    dim: int
    modalities: tuple[Modality, ...] = ("video",)
    fallback_for: str | None = None


@dataclass(frozen=True)
class OutputSpec:
    """What a task predicts.

    Args:
        kind: the output kind.
        num_classes: classes per decision: 16 keyframe positions, 2 for binary tasks.
        num_verbs: verb classes (AR, LTA).
        num_nouns: noun classes (AR, LTA).
        steps: Z, future steps (LTA).
    """

    kind: OutputKind
    num_classes: int = 2
    num_verbs: int = 0
    num_nouns: int = 0
    steps: int = 0


@dataclass(frozen=True)
class LossSpec:
    """The training loss of a task: ``"bce_onehot"`` or ``"ce"``, with optional class weights."""

    kind: str = "ce"
    class_weights: tuple[float, ...] | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A typed description of one task.

    Args:
        name: short lowercase name (``"pnr"``); the registry key.
        cluster: ``"human-object"`` or ``"human-human"``.
        modalities: the modalities of the task's own clips.
        clip_s: temporal span of one annotated clip of the task, in seconds (paper Table 1).
        fps: frame rate at which the TS model samples its input.
        window_s: the input span the TS model needs; ``None`` if it accepts any length. An auxiliary
            model whose window is longer than the primary clip is excluded (paper Sec. 4.1).
        streams: the token streams the TS model emits per window.
        clip_dim: size of the model's pooled per-clip feature with all its modalities (None: it has
            none). A primary that asks for one token per input clip (LTA) gets the clip means of the
            streams computable from its own modalities, concatenated (ASD on video-only clips: 128).
        output: what the task predicts.
        loss: the training loss.
        input_clips: how many clips one sample holds (LTA observes 2).
        can_be_primary: whether a translator may target this task (LAM is never primary in the paper).
        metric: name of the official validation metric, and whether higher is better.
        description: one line for humans.
        copy_of: for an ablation copy of another task's TS model, that task (copies join no cluster
            listing, so they are never picked as auxiliary tasks by default).
    """

    name: str
    cluster: str
    modalities: tuple[Modality, ...]
    clip_s: float
    fps: float
    window_s: float | None
    streams: tuple[StreamSpec, ...]
    output: OutputSpec
    loss: LossSpec = field(default_factory=LossSpec)
    clip_dim: int | None = None
    input_clips: int = 1
    can_be_primary: bool = True
    metric: str = "acc"
    metric_higher_is_better: bool = True
    description: str = ""
    copy_of: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise UserInputError(f"task name must be a non-empty identifier, got {self.name!r}", field="name")
        if self.cluster not in CLUSTERS:
            raise UserInputError(
                f"task {self.name!r}: cluster must be one of {list(CLUSTERS)}, got {self.cluster!r}",
                field="cluster",
            )
        for m in self.modalities:
            if m not in MODALITIES:
                raise UserInputError(f"task {self.name!r}: unknown modality {m!r}", field="modalities")
        names = [s.name for s in self.streams]
        if not names or len(set(names)) != len(names):
            raise UserInputError(f"task {self.name!r}: stream names must be unique and non-empty", field="streams")
        if self.loss.class_weights is not None and len(self.loss.class_weights) != self.output.num_classes:
            raise UserInputError(
                f"task {self.name!r}: {len(self.loss.class_weights)} class weights for "
                f"{self.output.num_classes} classes",
                field="loss.class_weights",
            )

    def stream(self, name: str) -> StreamSpec:
        """Return the stream called ``name``, or raise listing the valid names."""
        for s in self.streams:
            if s.name == name:
                return s
        raise UserInputError(
            f"task {self.name!r} has no stream {name!r}; valid: {[s.name for s in self.streams]}", field="streams"
        )

    def streams_for(self, available: tuple[Modality, ...] | set[Modality]) -> tuple[StreamSpec, ...]:
        """The streams computable from ``available`` modalities; fallbacks only replace missing streams."""
        ok = [s for s in self.streams if set(s.modalities) <= set(available)]
        main = {s.name for s in ok if s.fallback_for is None}
        return tuple(s for s in ok if s.fallback_for is None or s.fallback_for not in main)

    def fits_in(self, primary: TaskSpec) -> bool:
        """Span rule: this model can serve ``primary`` if its window is not longer than the primary clip."""
        return self.window_s is None or self.window_s <= primary.clip_s + 1e-9

    def build_head(self, dim: int, keyframe: str = "pooled") -> nn.Module:
        """The head of this task's output kind over D-dimensional tokens (``keyframe``: the head of a
        keyframe task, ``pooled`` or ``per-frame``)."""
        from egot2.tasks.heads import build_head

        return build_head(self, dim, keyframe)

    def compute_loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """This task's training loss of head ``outputs`` against ``labels``."""
        from egot2.tasks.losses import task_loss

        return task_loss(self, outputs, labels)
