"""Stage I: train one task-specific (TS) model on its own task's clips (paper Sec. 3.1).

A run folder holds ``model.safetensors`` (weights and the task in its metadata), ``ts.json`` (task,
size, data, validation scores), ``config.yaml`` (the training settings) and Lightning's
``checkpoints/`` (``last.ckpt`` for ``--resume``) and ``logs/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml

from egot2.backbones import build_ts_model
from egot2.backbones.zoo import TS_INFO, WEIGHTS, load_ts_model
from egot2.config.schema import TrainConfig
from egot2.data.collate import collate
from egot2.data.datasets import build_dataset
from egot2.tasks import OutputKind, get_task
from egot2.training.clip_info import dataset_infos
from egot2.training.distributed import releases_process_group
from egot2.training.loggers import make_loggers
from egot2.training.memo import MemoizedDataset
from egot2.training.module import TaskModule
from egot2.training.resume import best_checkpoint, eval_loader, resume_path, train_loader, trainer_options
from egot2.utils.atomic import write_json, write_text

TTM_FRAMES = 16  # TTM segments are sampled to a fixed number of frames for batching


def dataset_options(task: str) -> dict[str, Any]:
    """Options of the stage-I dataset of ``task``."""
    return {"num_frames": TTM_FRAMES} if task == "ttm" else {}


def label_keys(task: str) -> tuple[str, ...]:
    """The batch keys that hold ``task``'s labels."""
    kind = get_task(task).output.kind
    return ("verb", "noun") if kind in (OutputKind.VERB_NOUN, OutputKind.SEQUENCE) else ("label",)


def make_collate(task: str, infos: dict[str, dict[str, Any]]):  # noqa: ANN201 - a collate function
    """Collate dataset items into ``{"inputs", "labels", "ids", "infos"}``."""
    keys = label_keys(task)

    def fn(samples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collate(samples)
        ids = list(batch.get("key", []))
        return {"inputs": batch, "labels": {k: batch[k] for k in keys if k in batch}, "ids": ids,
                "infos": [infos.get(i, {}) for i in ids]}

    return fn


def ts_forward(model: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Stage-I forward: the TS model reads the dataset batch."""
    return model(batch["inputs"])


@releases_process_group
def train_ts(
    task: str,
    data: Path,
    out: Path,
    *,
    size: str = "tiny",
    train: TrainConfig | None = None,
    init_from: Path | None = None,
    resume: bool = False,
    devices: int | str = 1,
    num_nodes: int = 1,
    progress: bool = True,
    skip_bad: bool = False,
    max_steps: int = -1,
) -> dict[str, Any]:
    """Train the TS model of ``task`` on ``data`` (an Ego4D-layout folder) and write the run folder.

    Args:
        task: the task.
        data: the data folder.
        out: the run folder.
        size: ``tiny`` or ``full``.
        train: optimisation settings.
        init_from: an AR run whose SlowFast backbone initialises the LTA model (as the authors did).
        resume: continue from ``out/checkpoints/last.ckpt``.
        devices, num_nodes: Lightning devices (DDP when more than one).
        progress: show a progress bar.
        skip_bad: skip unreadable clips (each reported) instead of failing.
        max_steps: stop after this many steps (-1: the epochs decide).
    """
    train = train or TrainConfig()
    out = Path(out)
    ckpt_path = resume_path(out, resume)  # a bad checkpoint is refused before anything is written
    L.seed_everything(train.seed, workers=True, verbose=False)
    spec = get_task(task)
    model = build_ts_model(task, size)
    if init_from is not None:
        model.init_backbone_from(load_ts_model(init_from, "ar").model)  # type: ignore[operator]
    opts = dataset_options(task)
    sets = {s: build_dataset(task, data, s, skip_bad=skip_bad, **opts) for s in ("train", "val")}
    infos = {k: v for s, d in sets.items() for k, v in dataset_infos(task, d, data, s).items()}
    wrap = MemoizedDataset if train.memory_cache else (lambda d: d)
    collate_fn = make_collate(task, infos)
    loaders = {"train": train_loader(wrap(sets["train"]), train.batch_size, train.seed, collate_fn),
               "val": eval_loader(wrap(sets["val"]), train.batch_size, collate_fn)}
    module = TaskModule(model, spec, train, ts_forward)
    ckpt = best_checkpoint(out)
    trainer = L.Trainer(max_epochs=train.epochs, max_steps=max_steps, accelerator="cpu", devices=devices,
                        num_nodes=num_nodes, logger=make_loggers(out), deterministic=True,
                        enable_progress_bar=progress, enable_model_summary=False, log_every_n_steps=1,
                        **trainer_options(out, train, ckpt))
    start = time.perf_counter()
    trainer.fit(module, loaders["train"], loaders["val"], ckpt_path=ckpt_path, weights_only=True)
    if ckpt.best_model_path:
        module.load_state_dict(torch.load(ckpt.best_model_path, map_location="cpu", weights_only=True)["state_dict"])
    trainer.validate(module, loaders["val"], verbose=False)
    info = {"task": task, "size": size, "data": str(data), "val": module.last_scores,
            "train_seconds": time.perf_counter() - start, "steps": trainer.global_step,
            "skipped": [s.__dict__ for d in sets.values() for s in d.skipped]}
    if trainer.is_global_zero:
        save_ts_run(out, module.model, task, size, train, info)
    return info


def save_ts_run(out: Path, model: torch.nn.Module, task: str, size: str, train: TrainConfig,
                info: dict[str, Any]) -> None:
    """Write a TS run folder (weights with their task and size, ``ts.json``, ``config.yaml``)."""
    from dataclasses import asdict

    from egot2 import __version__
    from egot2.checkpoints import write_safetensors
    from egot2.checkpoints.convert import FORMAT

    out.mkdir(parents=True, exist_ok=True)
    write_safetensors(model.state_dict(), out / WEIGHTS,
                      {"format": FORMAT, "task": task, "size": size, "source": "egot2 train-ts",
                       "egot2_version": __version__})
    write_text(out / "config.yaml", yaml.safe_dump({"train": asdict(train)}, sort_keys=False))
    write_json(out / TS_INFO, {**info, "task": task, "size": size})
