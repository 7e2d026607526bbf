"""How long each part of the study trains, for ``--quick`` and the default run."""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARIES = ("pnr", "oscc", "ar", "lta", "ttm", "asd")
CLUSTERS = {"human-object": ("pnr", "oscc", "ar", "lta"), "human-human": ("lam", "ttm", "asd")}
TS_ORDER = ("oscc", "pnr", "ar", "lta", "lam", "ttm", "asd")  # AR before LTA: LTA starts from AR's backbone


@dataclass(frozen=True)
class Schedule:
    """Epochs and sizes of one study run.

    Args:
        world_size: the synthetic world's size preset.
        ts_epochs: stage-I epochs per task.
        ts_batch: stage-I batch size.
        ts_lr: stage-I learning rate.
        stage2_epochs: stage-II epochs (EgoT2-s and the baselines).
        stage2_epochs_for: per primary, stage-II epochs other than ``stage2_epochs`` (ASD's 300-frame
            chunks make its epochs the study's longest, and its translators converge in a few).
        generalist_epochs: EgoT2-g epochs.
        batch: stage-II batch size.
        lr: stage-II learning rate.
        max_clips: at most this many clips per split in a cache (LAM has thousands of rows).
        combine: per cluster, how EgoT2-g and the hard-sharing baseline draw one batch per task per step
            from datasets of different sizes. Human-human uses ``min_size`` (an epoch ends with the
            smallest dataset), which keeps LAM's thousands of windows from cycling ASD's 300-frame chunks
            and TTM's few segments many times an epoch; human-object cycles the smaller datasets
            (``max_size_cycle``), since LTA has only a few clips and every step is cheap.
        generalist_overrides: config overrides of both EgoT2-g runs. Per-frame answers (ASD) are read in
            ``parallel``: generated token by token they come in confident runs copied from frame to
            frame, which rank frames poorly (ASD mAP 0.50 against 0.88 on the default world).
    """

    world_size: str
    ts_epochs: dict[str, int] = field(default_factory=dict)
    ts_batch: int = 16
    ts_lr: float = 1e-3
    stage2_epochs: int = 20
    stage2_epochs_for: dict[str, int] = field(default_factory=dict)
    generalist_epochs: int = 20
    batch: int = 16
    lr: float = 1e-3
    max_clips: int | None = None
    combine: dict[str, str] = field(default_factory=lambda: {"human-object": "max_size_cycle",
                                                             "human-human": "min_size"})
    generalist_overrides: tuple[str, ...] = ("model.generalist.frame_decoding=parallel",)
    egot2s_overrides: tuple[str, ...] = ("model.translator.task_dropout=0.5",)

    def epochs_for(self, primary: str) -> int:
        """Stage-II epochs of ``primary``."""
        return self.stage2_epochs_for.get(primary, self.stage2_epochs)


QUICK = Schedule(
    world_size="quick",
    ts_epochs={"oscc": 3, "pnr": 3, "ar": 2, "lta": 2, "lam": 1, "ttm": 3, "asd": 2},
    stage2_epochs=4, generalist_epochs=10, max_clips=100,
)
DEFAULT = Schedule(
    world_size="default",
    ts_epochs={"oscc": 20, "pnr": 8, "ar": 8, "lta": 6, "lam": 3, "ttm": 10, "asd": 6},
    stage2_epochs=25, stage2_epochs_for={"asd": 10, "ttm": 12}, generalist_epochs=16, max_clips=1500,
)

SMOKE = Schedule(  # a few seconds per stage: for tests of the pipeline itself, not for results
    world_size="tiny",
    ts_epochs={"oscc": 1, "pnr": 1, "ar": 1, "lta": 1, "lam": 1, "ttm": 1, "asd": 1},
    stage2_epochs=1, generalist_epochs=1, max_clips=16,
)

# The translator and baseline sizes for tiny TS models (the paper's sizes are in configs/paper/).
TRANSLATOR = ["model.translator.dim=64", "model.translator.layers=2", "model.translator.heads=4",
              "model.translator.ffn=128", "model.translator.dropout=0.1", "model.translator.attn_dropout=0.0",
              "model.translator.frame_window=60",
              "model.fusion.hidden=64",
              "model.fusion.dropout=0.2"]


def positions(primary: str) -> str:
    """Per-frame (human-human) streams vary in length: sinusoidal positions; the rest learned."""
    return "task-sinusoidal" if primary in CLUSTERS["human-human"] else "learned"
