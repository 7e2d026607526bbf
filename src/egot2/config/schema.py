"""Typed configuration. Every key has a default here; YAML files hold only what differs."""

from __future__ import annotations

from dataclasses import dataclass, field

from egot2.errors import UserInputError

POSITION_SCHEMES = ("learned", "task-sinusoidal")
OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("none", "cosine", "step")
FRAME_DECODING = ("greedy", "parallel")
KEYFRAME_HEADS = ("pooled", "per-frame")
KEYFRAME_ANSWERS = ("vocabulary", "pointer")


@dataclass
class TranslatorConfig:
    """The EgoT2-s translator (paper Sec. 3.1; REFERENCE section 2).

    Args:
        dim: shared latent width D.
        layers: transformer encoder layers L.
        heads: attention heads.
        ffn: feed-forward hidden size.
        dropout: dropout inside the encoder.
        attn_dropout: dropout on attention weights (default: ``dropout``).
        feature_dropout: dropout on the projected task tokens.
        task_dropout: in training, the probability that all of one task's tokens are hidden from a clip
            (from attention and from the pooled head; at least one task always stays). Stage II learns
            on the clips the primary's own TS model was trained on, where its tokens look more
            reliable than they are on new clips; hiding them now and then makes the translator learn
            what the other tasks' tokens say (see ``docs/results.md``).
        norm_first: pre-LN encoder layers (default post-LN, as the authors').
        activation: ``relu`` or ``gelu``.
        positions: ``learned`` (one absolute embedding over the whole sequence) or ``task-sinusoidal``
            (sinusoidal restarted per stream + a learned task embedding).
        max_tokens: length covered by learned positions; 0 = the layout's total (fixed-length streams).
        pool_streams: ablation (paper Table 4): average every stream over time before fusion, so the
            translator sees one token per stream (not for per-frame primaries).
        frame_window: per-frame primaries (ASD) are translated in windows of this many frames
            (:mod:`egot2.translator.frame_windows`); 0 = the whole clip at once.
    """

    dim: int = 256
    layers: int = 3
    heads: int = 8
    ffn: int = 512
    dropout: float = 0.1
    attn_dropout: float | None = None
    feature_dropout: float = 0.0
    task_dropout: float = 0.0
    norm_first: bool = False
    activation: str = "relu"
    positions: str = "learned"
    max_tokens: int = 0
    pool_streams: bool = False
    frame_window: int = 0

    def __post_init__(self) -> None:
        if self.positions not in POSITION_SCHEMES:
            raise UserInputError(f"must be one of {list(POSITION_SCHEMES)}, got {self.positions!r}",
                                 field="translator.positions")
        if self.dim % self.heads:
            raise UserInputError(f"dim {self.dim} is not divisible by heads {self.heads}", field="translator.heads")
        for name in ("dim", "layers", "heads", "ffn"):
            if getattr(self, name) < 1:
                raise UserInputError("must be >= 1", field=f"translator.{name}")
        if self.frame_window < 0:
            raise UserInputError("must be >= 0 (0 = whole clips)", field="translator.frame_window")
        if not 0.0 <= self.task_dropout < 1.0:
            raise UserInputError(f"must be in [0, 1), got {self.task_dropout}", field="translator.task_dropout")


@dataclass
class FusionConfig:
    """The layers the Finetuning, Transfer and Late Fusion baselines train over frozen features.

    Args:
        hidden: hidden width of the token-wise MLP.
        layers: number of hidden layers.
        dropout: dropout after each hidden layer.
    """

    hidden: int = 512
    layers: int = 1
    dropout: float = 0.5


@dataclass
class GeneralistConfig:
    """EgoT2-g (paper Sec. 3.2): which tasks one translator answers, and its decoder.

    Args:
        cluster: ``human-object`` or ``human-human``: answer every task of that cluster.
        tasks: explicit task list (overrides ``cluster``); tasks of both clusters = cross-cluster.
        cross_cluster: auxiliary streams for each task come from every cluster of ``tasks``.
        decoder_layers: sequence-decoder depth.
        max_len: longest decoded sequence (prompt + answer + end).
        constrained: constrained decoding at evaluation (only tokens valid for the task).
        frame_answer_dropout: in training, the probability that each previous answer token that the
            decoder reads for a per-frame answer (ASD) is hidden (shown as ``<pad>``). Teacher forcing
            on per-frame labels, which come in long runs, otherwise teaches the decoder to copy the
            previous frame's answer; hiding some makes every step read the encoder (word dropout).
        frame_decoding: how per-frame answers are read: ``greedy`` (token by token, each frame reading
            the answers before it) or ``parallel`` (every previous answer hidden, in training, in
            validation and in one decoder pass at generation, so each frame's answer and score come
            from the encoder: no confident runs copied from frame to frame, which rank frames poorly
            for mAP; ``frame_answer_dropout`` then does not apply).
        keyframe_answers: how PNR's answer token ``frame:k`` is scored: ``vocabulary`` (the paper's: one
            output row per frame token, like every other token) or ``pointer`` (from the decoder state
            and PNR's own frame token k in the encoder memory, so that "frame k" is read off frame k's
            token, as ``model.keyframe_head: per-frame`` does for EgoT2-s). On the default synthetic
            world the pointer learnt PNR fastest (val loss 1.17 after one epoch) but then grew
            overconfident (5.0 by epoch 15), and the checkpoint chosen by the summed val loss came early
            for every task: PNR 0.93 s against 0.96, AR verb 0.36 against 0.57. Not the default.
        score_every_epoch: also generate answers and score every task at each validation epoch
            (slow; checkpoints are chosen by validation loss either way, as the paper's).
    """

    cluster: str = "human-human"
    tasks: list[str] | None = None
    cross_cluster: bool = False
    decoder_layers: int = 1
    max_len: int = 64
    constrained: bool = True
    frame_answer_dropout: float = 0.0
    frame_decoding: str = "greedy"
    keyframe_answers: str = "vocabulary"
    score_every_epoch: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.frame_answer_dropout <= 1.0:
            raise UserInputError(f"must be in [0, 1], got {self.frame_answer_dropout}",
                                 field="model.generalist.frame_answer_dropout")
        if self.frame_decoding not in FRAME_DECODING:
            raise UserInputError(f"must be one of {list(FRAME_DECODING)}, got {self.frame_decoding!r}",
                                 field="model.generalist.frame_decoding")
        if self.keyframe_answers not in KEYFRAME_ANSWERS:
            raise UserInputError(f"must be one of {list(KEYFRAME_ANSWERS)}, got {self.keyframe_answers!r}",
                                 field="model.generalist.keyframe_answers")


@dataclass
class ModelConfig:
    """What model a run trains.

    Args:
        method: ``egot2-s``, ``egot2-g``, ``finetune``, ``transfer`` or ``late-fusion`` (see :mod:`egot2.methods`).
        primary: the primary task.
        aux: auxiliary tasks; ``null`` applies the paper rule (same cluster, span rule).
        order: task order in the token sequence (default: primary first).
        windows: sliding windows per shorter-span auxiliary task, spread evenly over the clip.
        window_stride: instead, slide these tasks' models with this stride in seconds (``{ar: 2.0}``: windows
            every 2 s from the clip start, the last one ending at the clip end).
        streams: ``task.stream`` keys to keep (default: every computable stream).
        dims: ``{task.stream: D}`` overrides for TS models narrower than the paper's.
        precomputed: ``{NAME: D}``: also read the precomputed feature stream ``NAME.features`` (width D)
            that ``egot2 extract --precomputed NAME=DIR`` added to the cache (variable length, last).
        primary_copies: ablation (paper Table 4): instead of other tasks' models, read this many extra
            copies of the primary's TS model (tasks ``<primary>_copy1`` ...), trained with other seeds.
        translator: the EgoT2-s translator.
        fusion: the baselines' layers.
        generalist: EgoT2-g settings (``method: egot2-g``).
        keyframe_head: the stage-II head of a keyframe task (PNR): ``per-frame`` (``Linear(D, 1)`` on
            each of the primary's own frame tokens, as the TS model scores its frames; the baselines
            align their streams to the 16 frames first) or ``pooled`` (the paper's: the tokens averaged,
            then ``Linear(D, 16)``, one logit per frame position; ``configs/paper/egot2s_pnr.yaml``).
            Both read the same tokens and write the same 16 logits; the per-frame head keeps a frame's
            score tied to that frame, which a pooled vector has to learn back from 16 separate weight
            rows (on the default world: EgoT2-s keyframe error 0.64-0.70 s over four seeds against
            0.81-0.93 s pooled; see ``docs/results.md``).
    """

    method: str = "egot2-s"
    primary: str = "pnr"
    aux: list[str] | None = None
    order: list[str] | None = None
    windows: dict[str, int] = field(default_factory=dict)
    window_stride: dict[str, float] = field(default_factory=dict)
    streams: list[str] | None = None
    dims: dict[str, int] = field(default_factory=dict)
    precomputed: dict[str, int] = field(default_factory=dict)
    primary_copies: int = 0
    translator: TranslatorConfig = field(default_factory=TranslatorConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    generalist: GeneralistConfig = field(default_factory=GeneralistConfig)
    keyframe_head: str = "per-frame"

    def __post_init__(self) -> None:
        if self.keyframe_head not in KEYFRAME_HEADS:
            raise UserInputError(f"must be one of {list(KEYFRAME_HEADS)}, got {self.keyframe_head!r}",
                                 field="model.keyframe_head")


@dataclass
class TrainConfig:
    """Optimisation settings.

    Args:
        seed: global seed.
        epochs: training epochs.
        batch_size: clips per batch.
        optimizer: ``adamw``, ``adam`` or ``sgd``.
        lr: learning rate.
        weight_decay: weight decay.
        scheduler: ``none``, ``cosine`` or ``step``.
        weighting: EgoT2-g task-loss weighting: ``equal``, ``uncertainty`` or ``dwa``.
        combine: EgoT2-g: how datasets of different sizes form joint steps (``min_size``,
            ``max_size_cycle``).
        memory_cache: stage I: keep decoded clips in memory after the first epoch (small datasets).
        checkpoint_every_steps: also save ``last.ckpt`` every this many training steps inside an epoch, so
            that a killed run loses at most that many steps (0: only after each validation).
        unfreeze_ts: ablation (paper Table 4 (c)): stage II also trains the TS models it reads (train mode,
            BatchNorm statistics updated), their gradients from the translator's loss; online only
            (``egot2 train --online``), and the run keeps the fine-tuned TS models (``RUN/ts/<task>/``).
        ts_lr: learning rate of the TS models' parameters with ``unfreeze_ts`` (default: ``lr``).
    """

    seed: int = 0
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adamw"
    lr: float = 1e-4
    weight_decay: float = 1e-4
    scheduler: str = "none"
    weighting: str = "equal"
    combine: str = "max_size_cycle"
    memory_cache: bool = False
    checkpoint_every_steps: int = 0
    unfreeze_ts: bool = False
    ts_lr: float | None = None

    def __post_init__(self) -> None:
        if self.ts_lr is not None and not self.ts_lr > 0:
            raise UserInputError(f"must be > 0, got {self.ts_lr}", field="train.ts_lr")
        for name, valid in (("optimizer", OPTIMIZERS), ("scheduler", SCHEDULERS)):
            if getattr(self, name) not in valid:
                raise UserInputError(f"must be one of {list(valid)}, got {getattr(self, name)!r}", field=f"train.{name}")
        for name, least in (("epochs", 1), ("batch_size", 1), ("checkpoint_every_steps", 0)):
            if getattr(self, name) < least:
                raise UserInputError(f"must be >= {least}, got {getattr(self, name)}", field=f"train.{name}")


@dataclass
class Config:
    """A whole run: the model and its training."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
