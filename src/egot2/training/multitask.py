"""The multi-task hard parameter sharing baseline (paper Table 5, Fig. 2b): one TS backbone shared by
two tasks, one head each, trained jointly from the raw clips (one batch per task per step, losses
summed). PNR+OSCC share the 3D ResNet; LAM+TTM share the per-frame ResNet-18 encoder."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import CombinedLoader
from torch import Tensor
from torch.utils.data import DataLoader

from egot2.backbones import build_ts_model
from egot2.baselines import HardSharing
from egot2.config.schema import TrainConfig
from egot2.data.datasets import build_dataset
from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.training.clip_info import dataset_infos
from egot2.training.loggers import make_loggers
from egot2.training.memo import MemoizedDataset
from egot2.training.optim import build_optimizer
from egot2.training.scoring import score
from egot2.training.stage1 import dataset_options, make_collate
from egot2.utils.atomic import write_json

TRUNKS = {("pnr", "oscc"): ("pnr", "tokens"), ("lam", "ttm"): ("lam", "frames")}


def build_hard_sharing(tasks: tuple[str, str], size: str = "tiny") -> HardSharing:
    """The shared-trunk model for a task pair of :data:`TRUNKS`."""
    if tasks not in TRUNKS:
        raise UserInputError(f"no shared trunk for {tasks}; valid: {list(TRUNKS)}", field="tasks")
    owner, stream = TRUNKS[tasks]
    trunk = build_ts_model(owner, size)
    dim = trunk.stream_dims[stream]
    return HardSharing(trunk, dim, list(tasks), token_fn=lambda t, batch, task: t.tokens(batch)[stream])


class MultiTaskModule(L.LightningModule):
    """Joint training of a :class:`HardSharing` model.

    Args:
        model: the shared-trunk model.
        tasks: the tasks (validation dataloader index -> task).
        train_cfg: optimiser settings.
    """

    def __init__(self, model: HardSharing, tasks: list[str], train_cfg: TrainConfig) -> None:
        super().__init__()
        self.model, self.tasks, self.train_cfg = model, tasks, train_cfg
        self._val: dict[str, list[Any]] = {t: [] for t in tasks}
        self.last_scores: dict[str, dict[str, float]] = {}

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> Tensor:
        total = None
        for task, b in batch.items():
            if b is None:
                continue
            loss = get_task(task).compute_loss(self.model(b["inputs"], task), b["labels"])
            self.log(f"train/loss_{task}", loss, batch_size=len(b["ids"]))
            total = loss if total is None else total + loss
        assert total is not None
        return total

    def validation_step(self, batch: Mapping[str, Any], batch_idx: int, dataloader_idx: int = 0) -> None:
        task = self.tasks[dataloader_idx]
        out = {k: v.detach() for k, v in self.model(batch["inputs"], task).items()}
        self._val[task].append((out, batch["labels"], list(batch["infos"])))

    def on_validation_epoch_end(self) -> None:
        for task in self.tasks:
            if self._val[task]:
                outs, labels, infos = zip(*self._val[task], strict=True)
                self.last_scores[task] = score(get_task(task), outs, labels, [i for g in infos for i in g])
                for name, value in self.last_scores[task].items():
                    self.log(f"val/{task}/{name}", value, add_dataloader_idx=False)
            self._val[task] = []

    def configure_optimizers(self) -> Any:
        return build_optimizer(self.model.parameters(), self.train_cfg)


def train_multitask(tasks: tuple[str, str], data: Path, out: Path, train: TrainConfig, *, size: str = "tiny",
                    progress: bool = True) -> dict[str, Any]:
    """Train the hard-sharing baseline on ``tasks`` and write ``out/run.json`` with each task's val scores
    (the last epoch's, as the baseline has no single selection metric)."""
    out = Path(out)
    L.seed_everything(train.seed, workers=True, verbose=False)
    model = build_hard_sharing(tasks, size)
    loaders: dict[str, dict[str, DataLoader]] = {"train": {}, "val": {}}
    g = torch.Generator().manual_seed(train.seed)
    for task in tasks:
        for split in ("train", "val"):
            ds = build_dataset(task, data, split, **dataset_options(task))
            infos = dataset_infos(task, ds, data, split)
            wrapped = MemoizedDataset(ds) if train.memory_cache else ds
            loaders[split][task] = DataLoader(wrapped, batch_size=train.batch_size, shuffle=split == "train",
                                              generator=g, collate_fn=make_collate(task, infos))
    module = MultiTaskModule(model, list(tasks), train)
    trainer = L.Trainer(max_epochs=train.epochs, accelerator="cpu", devices=1, logger=make_loggers(out),
                        enable_checkpointing=False, deterministic=True, enable_progress_bar=progress,
                        enable_model_summary=False, log_every_n_steps=1)
    start = time.perf_counter()
    trainer.fit(module, CombinedLoader(loaders["train"], train.combine),
                CombinedLoader([loaders["val"][t] for t in tasks], "sequential"))
    info = {"method": "multitask", "tasks": list(tasks), "val": module.last_scores,
            "train_seconds": time.perf_counter() - start}
    write_json(out / "run.json", info)
    return info
