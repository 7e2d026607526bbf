"""EgoT2-g joint training (paper Sec. 3.2): every step takes one batch from each task's own dataset,
sums the (weighted) task losses and makes one update.

The cache folder holds one feature cache per task (``CACHE/<task>/``, each made by ``egot2 extract
--primary <task>``). Datasets of different sizes are combined with Lightning's ``CombinedLoader``:
``min_size`` (an epoch ends with the smallest dataset) or ``max_size_cycle`` (smaller ones cycle).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import CombinedLoader
from torch import Tensor

from egot2.config import Config
from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit, read_meta
from egot2.features.precomputed import check_cached_sources
from egot2.generalist import EgoT2G
from egot2.generalist.tokenizers import TaskTokenizer
from egot2.generalist.weighting import LossWeighting
from egot2.methods import build_model, generalist_layouts
from egot2.tasks import OutputKind, get_task
from egot2.training.cached_data import CachedStreams
from egot2.training.distributed import all_gather_lists, gather_validation, releases_process_group
from egot2.training.loggers import make_loggers
from egot2.training.optim import build_optimizer
from egot2.training.resume import (
    best_checkpoint,
    load_random_state,
    resume_path,
    save_random_state,
    trainer_options,
)
from egot2.training.runs import load_run, save_run
from egot2.training.scoring import score
from egot2.training.stage2 import _loader, fit_loaders


def answer_frames(model: EgoT2G, streams: Mapping[str, Tensor]) -> int:
    """Frames a per-frame answer labels: the longest per-frame stream of the batch (precomputed feature
    streams are not per frame); 1 when there is none."""
    per_frame = {s.key for s in model.encoder.layout if s.per_frame}
    return max((int(v.shape[1]) for k, v in streams.items() if k in per_frame), default=1)


def generation_outputs(tok: TaskTokenizer, model: EgoT2G, streams: Mapping[str, Tensor],
                       masks: Mapping[str, Tensor] | None, frames: int, constrained: bool) -> dict[str, Tensor]:
    """Answer every prompt of a task and express the answer as head-style logits, so that the same
    scoring as EgoT2-s applies: the logits of each generated step restricted to its valid tokens."""
    out: dict[str, Tensor] = {}
    for head in tok.heads:
        gen = model.generate(streams, head, masks, frames=frames, constrained=constrained)
        steps = tok.answer_length(frames)
        logits = gen.logits[:, :steps]  # (B, steps, V)
        kind = tok.kind
        if kind is OutputKind.SEQUENCE:
            out["verb"] = logits[:, 0::2][..., tok.verbs]  # (B, Z, V_verbs)
            out["noun"] = logits[:, 1::2][..., tok.nouns]
        elif kind is OutputKind.VERB_NOUN:
            key = "verb" if head.endswith("_verb") else "noun"
            out[key] = logits[:, 0][..., tok.verbs if key == "verb" else tok.nouns]
        elif kind is OutputKind.FRAME_BINARY:
            out["logits"] = logits[..., tok.values]  # (B, T, 2)
        else:
            out["logits"] = logits[:, 0][..., tok.values]  # (B, C)
        out["invalid"] = out.get("invalid", torch.zeros(logits.shape[0])) + gen.invalid.float()
    return out


class GeneralistModule(L.LightningModule):
    """One EgoT2-g model trained on every task's batches at once.

    Args:
        model: the EgoT2-g translator.
        cfg: the run config.
        tasks: task order (validation dataloader index -> task).
    """

    def __init__(self, model: EgoT2G, cfg: Config, tasks: list[str]) -> None:
        super().__init__()
        self.model, self.cfg, self.tasks = model, cfg, tasks
        self.weighting = LossWeighting(tasks, cfg.train.weighting)
        self._val: dict[str, list[Any]] = {t: [] for t in tasks}
        self.last_scores: dict[str, dict[str, float]] = {}

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> Tensor:
        losses = {}
        for task, b in batch.items():
            if b is None:
                continue
            losses[task] = self.model.task_loss(task, b["streams"], b["masks"] or None, b["labels"])
            self.log(f"train/loss_{task}", losses[task], batch_size=len(b["ids"]))
        total = self.weighting(losses)
        self.log("train/loss", total, prog_bar=True, batch_size=1)
        return total

    def on_train_epoch_end(self) -> None:
        self.weighting._epoch = all_gather_lists(self.weighting._epoch)  # DWA weighs by the losses of all ranks
        self.weighting.end_epoch()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        save_random_state(checkpoint)
        checkpoint["egot2_weighting"] = {"history": self.weighting.history, "epoch": self.weighting._epoch}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        load_random_state(checkpoint)
        state = checkpoint.get("egot2_weighting")
        if state is not None:
            self.weighting.history, self.weighting._epoch = state["history"], state["epoch"]

    def validation_step(self, batch: Mapping[str, Any], batch_idx: int, dataloader_idx: int = 0) -> None:
        task = self.tasks[dataloader_idx]
        loss = self.model.task_loss(task, batch["streams"], batch["masks"] or None, batch["labels"])
        self.log(f"val/loss_{task}", loss, batch_size=len(batch["ids"]), add_dataloader_idx=False, sync_dist=True)
        if not self.cfg.model.generalist.score_every_epoch:
            return  # checkpoints are picked by validation loss; generation runs once, after training
        frames = answer_frames(self.model, batch["streams"])
        outs = generation_outputs(self.model.tokenizers[task], self.model, batch["streams"], batch["masks"] or None,
                                  frames, self.cfg.model.generalist.constrained)
        self._val[task].append((outs, batch["labels"], list(batch["infos"])))

    def on_validation_epoch_end(self) -> None:
        total_loss = 0.0
        loaders = self.trainer.val_dataloaders
        for i, task in enumerate(self.tasks):
            total_loss += float(self.trainer.callback_metrics.get(f"val/loss_{task}", 0.0))
            self._val[task] = gather_validation(self._val[task], loaders[i] if isinstance(loaders, list) else loaders)
            if not self._val[task]:
                continue
            outs, labels, infos = zip(*self._val[task], strict=True)
            scores = score(get_task(task), outs, labels, [i for g in infos for i in g])
            scores["invalid_rate"] = float(torch.cat([o["invalid"] for o in outs]).mean())
            self.last_scores[task] = scores
            for name, value in scores.items():
                self.log(f"val/{task}/{name}", value, add_dataloader_idx=False, sync_dist=True)
            self._val[task] = []
        self.log("val_metric", -total_loss, sync_dist=True)  # the paper keeps the lowest validation loss

    def configure_optimizers(self) -> Any:
        return build_optimizer(list(self.model.parameters()) + list(self.weighting.parameters()), self.cfg.train)


def _task_cache(cache: Path, task: str) -> Path:
    path = Path(cache) / task
    meta = read_meta(path)
    if meta.get("primary") != task:
        raise UserInputError(f"expected a cache for {task!r}, found one for {meta.get('primary')!r}",
                             file=path / "meta.json", field="primary")
    return path


def resolve_generalist(cfg: Config, cache: Path) -> Config:
    """Fill ``model.dims`` from every task's cache."""
    dims: dict[str, int] = {}
    for task in generalist_layouts(dataclasses.replace(cfg.model, dims={})):
        streams = read_meta(_task_cache(cache, task))["streams"]
        check_cached_sources(cfg.model.precomputed, streams, Path(cache) / task / "meta.json")
        dims.update(streams)
    union = {s.key for lay in generalist_layouts(dataclasses.replace(cfg.model, dims={})).values() for s in lay}
    merged = {k: v for k, v in {**dims, **cfg.model.dims}.items() if k in union}
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, dims=merged))


@releases_process_group
def train_generalist(cfg: Config, cache: Path, out: Path, *, resume: bool = False, progress: bool = True,
                     devices: int | str = 1, num_nodes: int = 1, max_steps: int = -1) -> dict[str, Any]:
    """Jointly train EgoT2-g on every task's cache; write the run folder; return ``run.json``."""
    cache, out = Path(cache), Path(out)
    ckpt_path = resume_path(out, resume)  # a bad checkpoint is refused before anything is written
    cfg = resolve_generalist(cfg, cache)
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    layouts = generalist_layouts(cfg.model)
    tasks = list(layouts)
    model = build_model(cfg.model)
    assert isinstance(model, EgoT2G)
    bs, seed = cfg.train.batch_size, cfg.train.seed
    pairs = {t: fit_loaders(*(CachedStreams(CacheSplit(_task_cache(cache, t), s), [x.key for x in layouts[t]])
                              for s in ("train", "val")), bs, seed) for t in tasks}
    module = GeneralistModule(model, cfg, tasks)
    ckpt = best_checkpoint(out)
    trainer = L.Trainer(max_epochs=cfg.train.epochs, max_steps=max_steps, accelerator="cpu", devices=devices,
                        num_nodes=num_nodes, logger=make_loggers(out), deterministic=True,
                        enable_progress_bar=progress, enable_model_summary=False, log_every_n_steps=1,
                        **trainer_options(out, cfg.train, ckpt))
    start = time.perf_counter()
    trainer.fit(module, CombinedLoader({t: p[0] for t, p in pairs.items()}, cfg.train.combine),
                CombinedLoader([p[1] for p in pairs.values()], "sequential"), ckpt_path=ckpt_path,
                weights_only=True)
    if ckpt.best_model_path:
        module.load_state_dict(torch.load(ckpt.best_model_path, map_location="cpu", weights_only=True)["state_dict"])
    scores = evaluate_generalist(module.model, cfg, cache, "val")
    info = {"method": "egot2-g", "tasks": tasks, "cache": str(cache), "vocabulary": model.vocab.to_json(),
            "streams": {t: [s.key for s in layouts[t]] for t in tasks}, "val": scores,
            "train_seconds": time.perf_counter() - start, "steps": trainer.global_step}
    if trainer.is_global_zero:
        save_run(out, module.model, cfg, info)
    return info


Predictions = tuple[list[dict[str, Tensor]], list[dict[str, Tensor]], list[dict[str, Any]], list[str]]


@torch.no_grad()
def predict_generalist(model: EgoT2G, cfg: Config, cache: Path, split: str) -> dict[str, Predictions]:
    """Every task's answers over its cache split: ``{task: (outputs, labels, infos, ids)}``, outputs per
    batch as :func:`generation_outputs` gives them (head-style logits of each generated step, restricted
    to the step's valid tokens)."""
    model.eval()
    result = {}
    for task, layout in generalist_layouts(cfg.model).items():
        outs, labels, infos, ids = [], [], [], []
        for b in _loader(CacheSplit(_task_cache(cache, task), split), [s.key for s in layout], 64, False, 0):
            frames = answer_frames(model, b["streams"])
            outs.append(generation_outputs(model.tokenizers[task], model, b["streams"], b["masks"] or None, frames,
                                           cfg.model.generalist.constrained))
            labels.append(b["labels"])
            infos.extend(b["infos"])
            ids.extend(b["ids"])
        result[task] = (outs, labels, infos, ids)
    return result


def _invalid_rate(outs: list[dict[str, Tensor]]) -> float:
    return float(torch.cat([o["invalid"] for o in outs]).mean())


def evaluate_generalist(model: EgoT2G, cfg: Config, cache: Path, split: str) -> dict[str, dict[str, float]]:
    """Every task's metrics from the one model (generation with the configured constraint)."""
    result = {}
    for task, (outs, labels, infos, _) in predict_generalist(model, cfg, cache, split).items():
        result[task] = {**score(get_task(task), outs, labels, infos), "invalid_rate": _invalid_rate(outs)}
    return result


def evaluate_generalist_run(run: Path, split: str = "val", cache: Path | None = None,
                            predictions: Path | None = None, data: Path | None = None) -> list[dict[str, Any]]:
    """``egot2 eval`` of an EgoT2-g run: for every task, ``{"task", "split", "metrics", "predictions",
    "scored_by"}`` as :func:`egot2.training.stage2.evaluate_run` gives for an EgoT2-s run.

    Each task with a prediction format gets the file an EgoT2-s run of that task writes, named
    ``predictions_<task>_<split>.<json|csv>`` in ``predictions`` (a folder; default the run folder), and
    scored as :func:`egot2.evaluation.run_files.write_and_score` says. Labelled splits also report the
    generation's ``invalid_rate`` (invalid value tokens per clip, from the cache).
    """
    from egot2.evaluation.run_files import task_predictions_path, write_and_score
    from egot2.evaluation.submission import SUFFIX
    from egot2.generalist import Vocabulary

    cfg, info, weights = load_run(Path(run))
    model = build_model(cfg.model)
    assert isinstance(model, EgoT2G)
    if Vocabulary.from_json(info["vocabulary"]).tokens != model.vocab.tokens:
        raise UserInputError("the run's vocabulary differs from the one its config builds", file=Path(run) / "run.json",
                             field="vocabulary")
    if data is not None and not Path(data).is_dir():
        raise UserInputError("data folder not found", file=data, field="--data")
    folder = Path(predictions) if predictions is not None else Path(run)
    if folder.is_file():
        raise UserInputError("an EgoT2-g run writes one prediction file per task: give a folder", file=folder,
                             field="--predictions")
    model.load_state_dict(weights)
    cache = Path(cache or info["cache"])
    results = []
    for task, (outs, labels, infos, ids) in predict_generalist(model, cfg, cache, split).items():
        path = task_predictions_path(folder, task, split) if task in SUFFIX else None
        r = write_and_score(task, split, outs, labels, infos, ids, path,
                            data or read_meta(_task_cache(cache, task)).get("data"), explicit=predictions is not None)
        if split != "test":
            r["metrics"]["invalid_rate"] = _invalid_rate(outs)
        results.append(r)
    return results
