"""Stage II from a feature cache: train a translator or baseline, and evaluate it.

The cache holds every TS model's token streams for every clip of the primary's dataset, so no frozen
backbone runs during training (the authors' release re-ran them at every step).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from egot2.backbones.zoo import ts_entry
from egot2.config import Config
from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit, read_meta
from egot2.features.identity import cache_identity, check_identity
from egot2.features.precomputed import check_cached_sources
from egot2.methods import build_model, model_layout
from egot2.tasks import get_task
from egot2.training.cached_data import CachedStreams, collate_cached, translator_forward
from egot2.training.distributed import releases_process_group
from egot2.training.loggers import make_loggers
from egot2.training.module import TaskModule
from egot2.training.resume import best_checkpoint, eval_loader, resume_path, train_loader, trainer_options
from egot2.training.runs import load_run, save_run
from egot2.training.scoring import score
from egot2.utils.atomic import write_json
from egot2.utils.params import count_parameters

CACHE_RECORD = "cache.json"  # the identity of the cache a run trains on (checked on --resume)


def resolve_dims(cfg: Config, cache: Path) -> Config:
    """Fill ``model.dims`` from the cache for every stream the config does not pin; a pinned dim that
    differs from the cache's is an error."""
    meta = read_meta(cache)
    if meta.get("primary") != cfg.model.primary:
        raise UserInputError(f"the cache was extracted for primary {meta.get('primary')!r}, the config trains "
                             f"{cfg.model.primary!r}", file=cache / "meta.json", field="primary")
    strides = {k: float(v) for k, v in cfg.model.window_stride.items()}
    if "windows" in meta and dict(meta.get("strides", {})) != strides:
        raise UserInputError(f"the config slides windows with strides {strides} but the cache was extracted with "
                             f"{dict(meta.get('strides', {}))}: extract it with these strides (`egot2 extract "
                             "--config` takes them from the config)", file=cache / "meta.json",
                             field="model.window_stride")
    if "windows" in meta and dict(meta["windows"]) != dict(cfg.model.windows):
        raise UserInputError(f"the config slides windows {dict(cfg.model.windows)} but the cache was extracted with "
                             f"{dict(meta['windows'])}: extract it with these windows (`egot2 extract --config` "
                             "takes them from the config)", file=cache / "meta.json", field="model.windows")
    dims = dict(meta["streams"])
    check_cached_sources(cfg.model.precomputed, dims, cache / "meta.json")
    for key, d in cfg.model.dims.items():
        if key in dims and dims[key] != d:
            raise UserInputError(f"config pins {key} to {d} dims but the cache holds {dims[key]}",
                                 file=cache / "meta.json", field=f"model.dims.{key}")
    model = dataclasses.replace(cfg.model, dims={**dims, **cfg.model.dims})
    layout_keys = {s.key for s in model_layout(dataclasses.replace(model, dims={}))}
    model = dataclasses.replace(model, dims={k: v for k, v in model.dims.items() if k in layout_keys})
    return dataclasses.replace(cfg, model=model)


def _loader(split: CacheSplit, keys: list[str], batch: int, shuffle: bool, seed: int) -> DataLoader:
    """A loader over a whole cache split in one process (evaluation); training uses :func:`fit_loaders`."""
    g = torch.Generator().manual_seed(seed)
    return DataLoader(CachedStreams(split, keys), batch_size=batch, shuffle=shuffle, generator=g,
                      collate_fn=collate_cached, num_workers=0)


def fit_loaders(train: Dataset, val: Dataset, batch: int, seed: int) -> tuple[DataLoader, DataLoader]:
    """Training and validation loaders sharded over DDP ranks; the training one resumes mid-epoch."""
    return train_loader(train, batch, seed, collate_cached), eval_loader(val, batch, collate_cached)


def _online_loaders(cfg: Config, data: Path, ts: list[str | Path]) -> tuple[Config, DataLoader, DataLoader, Any, Any]:
    """Loaders that run the TS models on every clip (``--online``): the frozen models in the loader, or,
    with ``train.unfreeze_ts``, only the decoding there (the models then run in the training step).
    Returns the config with the streams' dims, the loaders, the stream builder and the loaded models."""
    from egot2.features.online import OnlineInputs, OnlineStreams, collate_inputs, load_models, online_builder

    layout = model_layout(dataclasses.replace(cfg.model, dims={}))
    loaded = load_models(ts)
    builder = online_builder(cfg.model.primary, Path(data), ts, layout, cfg.model.windows, models=loaded,
                             strides=cfg.model.window_stride)
    kind, collate = (OnlineInputs, collate_inputs) if cfg.train.unfreeze_ts else (OnlineStreams, collate_cached)
    sets = {s: kind(cfg.model.primary, Path(data), s, builder) for s in ("train", "val")}
    first = sets["val"][0]
    probe = first["streams"] if "streams" in first else builder.finish(first["inputs"])[0]
    model = dataclasses.replace(cfg.model, dims={**{k: int(v.shape[-1]) for k, v in probe.items()}, **cfg.model.dims})
    cfg = dataclasses.replace(cfg, model=model)
    loaders = (train_loader(sets["train"], cfg.train.batch_size, cfg.train.seed, collate),
               eval_loader(sets["val"], cfg.train.batch_size, collate))
    return cfg, *loaders, builder, loaded


@releases_process_group
def train_stage2(
    cfg: Config,
    cache: Path | None,
    out: Path,
    *,
    online: tuple[Path, list[Path]] | None = None,
    resume: bool = False,
    devices: int | str = 1,
    num_nodes: int = 1,
    progress: bool = True,
    max_steps: int = -1,
) -> dict[str, Any]:
    """Train ``cfg.model`` on the cache's train split (or ``online=(data, ts runs)``: the TS models run on
    every clip; with ``train.unfreeze_ts`` they train too), keep the best checkpoint by the official
    validation metric, and write the run folder. Returns ``run.json``'s content."""
    out = Path(out)
    get_task(cfg.model.primary)  # an unknown task is named before anything else
    unfreeze = cfg.train.unfreeze_ts
    if unfreeze and online is None:
        raise UserInputError("unfrozen TS models train with the translator, which a feature cache cannot stand "
                             "in for: use --online --data DATA --ts RUN... instead of --cache",
                             field="train.unfreeze_ts")
    ckpt_path = resume_path(out, resume)  # a bad checkpoint is refused before anything is written
    builder = loaded = None
    if online is not None:
        cfg, train, val, builder, loaded = _online_loaders(cfg, *online)
    else:
        cache = Path(cache)
        cfg = resolve_dims(cfg, cache)
        identity = _cache_record(cache, out, resume)
        keys = [s.key for s in model_layout(cfg.model)]
        train, val = fit_loaders(CachedStreams(CacheSplit(cache, "train"), keys),
                                 CachedStreams(CacheSplit(cache, "val"), keys), cfg.train.batch_size, cfg.train.seed)
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    model = build_model(cfg.model)
    keys = [s.key for s in model_layout(cfg.model)]
    spec = get_task(cfg.model.primary)
    if unfreeze:
        from egot2.training.unfrozen import UnfrozenModule, WithTS, unfrozen_forward

        module: TaskModule = UnfrozenModule(WithTS(model, builder), spec, cfg.train, unfrozen_forward).train()
    else:
        module = TaskModule(model, spec, cfg.train, translator_forward)
    ckpt = best_checkpoint(out)
    trainer = L.Trainer(
        max_epochs=cfg.train.epochs, max_steps=max_steps, accelerator="cpu", devices=devices,
        num_nodes=num_nodes, logger=make_loggers(out), deterministic=True,
        enable_progress_bar=progress, enable_model_summary=False, log_every_n_steps=1,
        **trainer_options(out, cfg.train, ckpt),
    )
    if cache is not None and trainer.is_global_zero:
        write_json(out / CACHE_RECORD, identity)  # every check passed: the run starts on this cache
    start = time.perf_counter()
    trainer.fit(module, train, val, ckpt_path=ckpt_path, weights_only=True)
    if ckpt.best_model_path:
        best = torch.load(ckpt.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(best)
    module.eval()
    if cache is not None:
        scores = score_split(model, cfg, cache, "val")
    else:  # the best weights (the fine-tuned TS models' too) on the clips `egot2 eval` scores
        scores = score(spec, *predict_online(model, cfg, Path(online[0]), builder, "val")[:3])
    info: dict[str, Any] = {
        "method": cfg.model.method, "primary": cfg.model.primary, "cache": None if cache is None else str(cache),
        "streams": keys, "val": scores, "train_seconds": time.perf_counter() - start,
        "best_checkpoint": ckpt.best_model_path or None, "trainable_params": count_parameters(module.model).trainable}
    if online is not None:
        info["online"] = {"data": str(Path(online[0]).resolve()), "ts": [ts_entry(p) for p in online[1]]}
    else:
        info["cache_identity"] = identity
    if trainer.is_global_zero:
        if unfreeze:
            from egot2.training.unfrozen import save_ts_models

            info.update(unfreeze_ts=True)
            info["online"]["ts"] = save_ts_models(out, module.model, loaded, cfg.train)
        save_run(out, model, cfg, info)
    return info


@torch.no_grad()
def predict_online(model: torch.nn.Module, cfg: Config, data: Path, builder: Any, split: str, batch: int = 64
                   ) -> tuple[list[dict[str, torch.Tensor]], list[dict[str, torch.Tensor]], list[dict[str, Any]],
                              list[str]]:
    """Model outputs over a data split with the TS models of ``builder`` run on every clip (the first piece
    of each, as a cache holds them): (outputs, labels, infos, ids) per batch, as :func:`predict_split`."""
    from egot2.features.online import OnlineStreams

    loader = DataLoader(OnlineStreams(cfg.model.primary, Path(data), split, builder, first_pieces=True),
                        batch_size=batch, collate_fn=collate_cached, num_workers=0)
    model.eval()
    outs, labels, infos, ids = [], [], [], []
    for b in loader:
        outs.append({k: v for k, v in translator_forward(model, b).items() if k != "attention"})
        labels.append(b["labels"])
        infos.extend(b["infos"])
        ids.extend(b["ids"])
    return outs, labels, infos, ids


@torch.no_grad()
def predict_split(model: torch.nn.Module, cfg: Config, cache: Path, split: str, batch: int = 64) -> tuple[
        list[dict[str, torch.Tensor]], list[dict[str, torch.Tensor]], list[dict[str, Any]], list[str]]:
    """Model outputs over a cache split: (outputs, labels, infos, ids) per batch."""
    keys = [s.key for s in model_layout(cfg.model)]
    model.eval()
    outs, labels, infos, ids = [], [], [], []
    for b in _loader(CacheSplit(Path(cache), split), keys, batch, False, 0):
        outs.append({k: v for k, v in translator_forward(model, b).items() if k != "attention"})
        labels.append(b["labels"])
        infos.extend(b["infos"])
        ids.extend(b["ids"])
    return outs, labels, infos, ids


def score_split(model: torch.nn.Module, cfg: Config, cache: Path, split: str) -> dict[str, float]:
    """The task's metrics on a labelled cache split."""
    outs, labels, infos, _ = predict_split(model, cfg, cache, split)
    return score(get_task(cfg.model.primary), outs, labels, infos)


def evaluate_run(run: Path, split: str = "val", cache: Path | None = None, predictions: Path | None = None,
                 data: Path | None = None) -> dict[str, Any] | list[dict[str, Any]]:
    """Load a run folder, write its prediction file for ``split`` of its cache and report the official
    metrics: ``{"task", "split", "metrics", "predictions", "scored_by"}`` (EgoT2-g: one entry per task, each
    with its own file in the folder ``predictions``; :func:`egot2.training.joint.evaluate_generalist_run`).

    The file (default ``RUN/predictions_<split>.<json|csv>``, :mod:`egot2.evaluation.submission`) is in
    the format ``egot2 evaluate`` reads. When the split is labelled and the data folder (``data``, else
    the one the cache was extracted from) holds its annotation file, the file is scored with
    :func:`egot2.evaluation.evaluate` (``scored_by: "evaluate"``); a labelled split without annotations
    is scored from the cache (``"cache"``); a test split is only written (``metrics`` empty).

    A run trained ``--online`` without a cache runs its TS models again on the data folder's clips (a run
    with ``train.unfreeze_ts``: its fine-tuned ones, ``RUN/ts/<task>/``); given a cache, such a run is
    evaluated from it only if the cache holds the streams of those fine-tuned models.
    """
    from egot2.backbones.zoo import TS_INFO
    from egot2.evaluation import submission
    from egot2.evaluation.run_files import write_and_score

    if (Path(run) / TS_INFO).exists() and not (Path(run) / "run.json").exists():  # a TS run (stage I)
        if cache is not None:
            raise UserInputError("a TS run reads the clips themselves, not a cache: leave out --cache (--data picks "
                                 "another data folder)", field="--cache")
        from egot2.training.ts_eval import evaluate_ts_run

        return evaluate_ts_run(Path(run), split, predictions, data)
    cfg, info, weights = load_run(Path(run))
    if cfg.model.method == "egot2-g":
        from egot2.training.joint import evaluate_generalist_run

        return evaluate_generalist_run(Path(run), split, cache, predictions, data)
    if data is not None and not Path(data).is_dir():
        raise UserInputError("data folder not found", file=data, field="--data")
    model = build_model(cfg.model)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise UserInputError(f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}",
                             file=Path(run) / "model.safetensors")
    task = cfg.model.primary
    online = info.get("online")
    ts = [ts_entry(p, Path(run)) for p in (online or {}).get("ts", [])]
    if cache is None and info.get("cache") is None and online:  # an online run: the TS models run again
        from egot2.features.online import online_builder

        data = Path(data or online["data"])
        layout = model_layout(dataclasses.replace(cfg.model, dims={}))
        builder = online_builder(task, data, ts, layout, cfg.model.windows, strides=cfg.model.window_stride)
        outs, labels, infos, ids = predict_online(model, cfg, data, builder, split)
        source = "online"
    else:
        cache = Path(cache or info["cache"])
        if online:  # the streams must be those of the TS models the run read (fine-tuned ones included)
            _check_online_ts(cache, ts, bool(info.get("unfreeze_ts")))
        else:
            check_identity(cache, info.get("cache_identity"), "the run")
        outs, labels, infos, ids = predict_split(model, cfg, cache, split)
        data, source = data or read_meta(cache).get("data"), "cache"
    path = Path(predictions or submission.predictions_path(run, task, split))
    return write_and_score(task, split, outs, labels, infos, ids, path, data, explicit=predictions is not None,
                           source=source)


def _check_online_ts(cache: Path, ts: list[str], fine_tuned: bool) -> None:
    """An online run reads a cache only if it holds the streams of the run's TS models (a run with
    ``train.unfreeze_ts``: its fine-tuned ones)."""
    from egot2.backbones.zoo import ts_hashes

    have = read_meta(cache).get("ts", {})
    for task, sha in ts_hashes(ts).items():
        if have.get(task, {}).get("sha256") != sha:
            what = "fine-tuned its TS models (train.unfreeze_ts)" if fine_tuned else "ran its TS models online"
            raise UserInputError(f"the run {what} but the cache holds the streams of another {task!r} model: "
                                 "extract it with the run's TS models (`egot2 extract --ts ...`), or evaluate "
                                 "without --cache", file=cache / "meta.json", field="ts")


def _cache_record(cache: Path, out: Path, resume: bool) -> dict[str, Any]:
    """The cache's identity (same TS models, windows, profile), checked against ``RUN/cache.json`` on
    resume; the training writes it there before it starts."""
    identity = cache_identity(read_meta(cache))
    record = Path(out) / CACHE_RECORD
    if resume and record.exists():
        check_identity(cache, json.loads(record.read_text()), "the run being resumed")
    return identity
