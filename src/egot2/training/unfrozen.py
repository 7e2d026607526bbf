"""Stage II with unfrozen TS models (paper Table 4 (c); ``train.unfreeze_ts``).

The data loader decodes and transforms every clip for every TS model
(:class:`~egot2.features.online.OnlineInputs`); the training step runs the TS models on those inputs
(:meth:`~egot2.features.builder.StreamBuilder.tokens`) and the translator on their streams, so the
translator's loss reaches the TS weights. The TS models follow the module's mode (train mode in training
steps: BatchNorm statistics update, dropout on) and their parameters are optimised with the translator's,
at ``train.ts_lr``. Frozen training (cached or ``--online``) never comes here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from egot2.backbones.zoo import LoadedTS
from egot2.config.schema import TrainConfig
from egot2.features.builder import StreamBuilder
from egot2.training.cached_data import collate_cached
from egot2.training.module import TaskModule
from egot2.training.optim import build_optimizer, build_scheduler

TS_FOLDER = "ts"  # RUN/ts/<task>/: the fine-tuned TS runs


class WithTS(nn.Module):
    """A stage-II model and the TS models that feed it, trained as one.

    Args:
        model: the translator or baseline (reads ``(streams, masks)``).
        builder: the stream builder; its TS models become trainable submodules (``ts``).
    """

    def __init__(self, model: nn.Module, builder: StreamBuilder) -> None:
        super().__init__()
        self.model = model
        self.ts = nn.ModuleDict(builder.models)
        for p in self.ts.parameters():
            p.requires_grad_(True)
        self.builder = builder

    def forward(self, batch: Mapping[str, Any]) -> dict[str, Tensor]:
        """The model's outputs for a batch of :func:`~egot2.features.online.collate_inputs`."""
        streams = self.builder.tokens(batch["inputs"], self.ts, group=True)  # per clip {key: (T, D)}
        items = [{"id": i, "streams": s, "labels": {}, "info": {}} for i, s in zip(batch["ids"], streams, strict=True)]
        b = collate_cached(items)  # (B, T, D) per stream, padded with masks where lengths differ
        return self.model(b["streams"], b["masks"] or None)


def unfrozen_forward(model: nn.Module, batch: Mapping[str, Any]) -> dict[str, Tensor]:
    """The :class:`~egot2.training.module.TaskModule` forward of a :class:`WithTS`."""
    return model(batch)


class UnfrozenModule(TaskModule):
    """:class:`~egot2.training.module.TaskModule` over a :class:`WithTS`: the translator's parameters at
    ``train.lr``, the TS models' at ``train.ts_lr`` (default ``train.lr``), one optimiser."""

    def configure_optimizers(self) -> Any:
        cfg: TrainConfig = self.train_cfg
        opt = build_optimizer(self.model.model.parameters(), cfg)
        opt.add_param_group({"params": [p for p in self.model.ts.parameters() if p.requires_grad],
                             "lr": cfg.ts_lr or cfg.lr})
        steps = int(self.trainer.estimated_stepping_batches) if self.trainer else 1
        sched = build_scheduler(opt, cfg, steps)
        return opt if sched is None else {"optimizer": opt, "lr_scheduler": sched}


def save_ts_models(out: Path, net: WithTS, loaded: Mapping[str, LoadedTS], train: TrainConfig) -> list[str]:
    """Write every fine-tuned TS model of ``net`` as a TS run ``out/ts/<task>/`` (loadable by
    ``--ts``); returns their paths relative to ``out``."""
    from egot2.training.stage1 import save_ts_run

    paths = []
    for task, model in net.ts.items():
        rel = f"{TS_FOLDER}/{task}"
        save_ts_run(Path(out) / rel, model, task, loaded[task].size, train,
                    {"fine_tuned_from": str(loaded[task].path), "source": "egot2 train (train.unfreeze_ts)"})
        paths.append(rel)
    return paths
