"""The Lightning module every supervised stage uses: stage I (a TS model on its task's clips) and
stage II (a translator or baseline on cached token streams).

What is optimised is given from outside: ``forward(model, batch) -> outputs`` and the task's loss
(the model's own ``loss`` if it has one, else the :class:`TaskSpec`'s). Validation scores with the
official metric functions, over every rank's clips under DDP (gathered, each clip once); ``val_metric``
is the task's selection metric (negated when lower is better, so that checkpointing always maximises).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import lightning as L
from torch import Tensor, nn

from egot2.config.schema import TrainConfig
from egot2.tasks import TaskSpec
from egot2.training.distributed import gather_validation
from egot2.training.optim import build_optimizer, build_scheduler
from egot2.training.resume import load_random_state, save_random_state
from egot2.training.scoring import score

ForwardFn = Callable[[nn.Module, Mapping[str, Any]], dict[str, Tensor]]


class TaskModule(L.LightningModule):
    """Train and validate one model on one task.

    Args:
        model: the trained model.
        spec: the task (its loss and metrics).
        train_cfg: optimiser settings.
        forward: maps a batch to the model's outputs.
    """

    def __init__(self, model: nn.Module, spec: TaskSpec, train_cfg: TrainConfig, forward: ForwardFn) -> None:
        super().__init__()
        self.model, self.spec, self.train_cfg, self.forward_fn = model, spec, train_cfg, forward
        self._val: list[tuple[dict[str, Tensor], dict[str, Tensor], list[dict[str, Any]]]] = []
        self.last_scores: dict[str, float] = {}

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        own = getattr(self.model, "loss", None)
        return own(outputs, labels) if callable(own) else self.spec.compute_loss(outputs, labels)

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> Tensor:
        loss = self.loss(self.forward_fn(self.model, batch), batch["labels"])
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["ids"]), sync_dist=True)
        return loss

    def validation_step(self, batch: Mapping[str, Any], batch_idx: int) -> None:
        outputs = self.forward_fn(self.model, batch)
        loss = self.loss(outputs, batch["labels"])
        self.log("val/loss", loss, batch_size=len(batch["ids"]), sync_dist=True)
        detached = {k: v.detach().cpu() for k, v in outputs.items() if k != "attention"}
        self._val.append((detached, {k: v.cpu() for k, v in batch["labels"].items()}, list(batch["infos"])))

    def on_validation_epoch_end(self) -> None:
        self._val = gather_validation(self._val, self.trainer.val_dataloaders)  # every rank's clips, each once
        if not self._val:
            return
        outs, labels, infos = zip(*self._val, strict=True)
        scores = score(self.spec, outs, labels, [i for group in infos for i in group])
        self._val = []
        self.last_scores = scores
        for name, value in scores.items():
            self.log(f"val/{name}", value, prog_bar=name == self.spec.metric, sync_dist=True)
        main = scores.get(self.spec.metric, next(iter(scores.values())))
        self.log("val_metric", main if self.spec.metric_higher_is_better else -main, sync_dist=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        save_random_state(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        load_random_state(checkpoint)

    def configure_optimizers(self) -> Any:
        opt = build_optimizer(self.model.parameters(), self.train_cfg)
        steps = int(self.trainer.estimated_stepping_batches) if self.trainer else 1
        sched = build_scheduler(opt, self.train_cfg, steps)
        return opt if sched is None else {"optimizer": opt, "lr_scheduler": sched}


