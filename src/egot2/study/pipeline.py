"""The study pipeline behind ``egot2 demo``."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from egot2.backbones.zoo import TS_INFO, file_sha256, load_ts_model
from egot2.config import load_config
from egot2.config.schema import TrainConfig
from egot2.errors import UserInputError
from egot2.features.extract import extract
from egot2.methods import generalist_layouts, model_layout
from egot2.study.jobs import Job, default_workers, run_jobs
from egot2.study.schedule import (
    CLUSTERS,
    DEFAULT,
    PRIMARIES,
    QUICK,
    TRANSLATOR,
    TS_ORDER,
    Schedule,
    positions,
)
from egot2.study.stages import Stages, content_key
from egot2.synth.config import load_world_config
from egot2.synth.generate import generate_world
from egot2.tasks import get_task
from egot2.translator.layout import default_aux
from egot2.utils.params import count_parameters


@dataclasses.dataclass
class StudyPaths:
    """Where each part of the study goes under the output folder."""

    root: Path

    @property
    def world(self) -> Path:
        return self.root / "world"

    def ts(self, task: str) -> Path:
        return self.root / "ts" / task

    def cache(self, task: str) -> Path:
        return self.root / "caches" / task

    def run(self, name: str) -> Path:
        return self.root / "runs" / name


def _method_runs(primary: str) -> list[tuple[str, str, list[str] | None]]:
    """(run name, method, aux) of every stage-II method for ``primary``."""
    aux = default_aux(get_task(primary))
    runs = [(f"{primary}-finetune", "finetune", None)]
    runs += [(f"{primary}-transfer-{a}", "transfer", [a]) for a in aux]
    runs += [(f"{primary}-late-fusion", "late-fusion", None), (f"{primary}-egot2-s", "egot2-s", None)]
    return runs


def _ts_params(tasks: list[str]) -> int:
    from egot2.backbones import build_ts_model

    return sum(count_parameters(build_ts_model(t, "tiny")).total for t in tasks)


def run_study(out: Path, *, quick: bool = False, world: Path | None = None, seed: int = 0,
              log: Callable[[str], None] = print, progress: bool = True,
              schedule: Schedule | None = None, workers: int | None = None) -> dict[str, Any]:
    """Run (or resume, or reuse) the whole study into ``out``; returns the content of results.json.

    ``schedule`` overrides the ``quick`` / default schedules (tests use a smoke schedule). After the
    world, every stage is a :class:`~egot2.study.jobs.Job` of one dependency graph that runs ``workers``
    stages side by side (default: the CPUs), each in its own process with one torch thread, so the
    results do not depend on ``workers``. With more than one worker the stages' own progress bars are
    off and each stage reports when it starts and ends."""
    from egot2.study.report import write_outputs

    sched: Schedule = schedule or (QUICK if quick else DEFAULT)
    if workers is not None and workers < 1:
        raise UserInputError(f"must be >= 1, got {workers}", field="--workers")
    workers = default_workers() if workers is None else workers
    bars = progress and workers == 1
    paths = StudyPaths(Path(out))
    stages = Stages(paths.root, log)
    t_start = time.perf_counter()

    # 1. the world
    wcfg = load_world_config(size=sched.world_size, world=world, seed=seed)
    world_key = content_key("world", dataclasses.asdict(wcfg))
    stages.run("world", paths.world, world_key,
               lambda resume: (generate_world(wcfg, paths.world), {})[1])

    # 2-6. every other stage, as one graph
    jobs = [*_ts_jobs(paths, sched, seed, world_key, bars), *_cache_jobs(paths, sched, bars),
            *_stage2_jobs(paths, sched, seed, bars), *_generalist_jobs(paths, sched, seed, bars),
            *_multitask_jobs(paths, sched, seed, world_key, bars)]
    results = run_jobs(stages, jobs, workers, log)

    rows: list[dict[str, Any]] = []
    for task in TS_ORDER:  # the TS rows, LAM's included (Table 5)
        info = json.loads((paths.ts(task) / TS_INFO).read_text())
        ts_counts = count_parameters(load_ts_model(paths.ts(task)).model)
        rows.append({"method": "ts", "primary": task, "aux": [], "trainable_params": ts_counts.trainable,
                     "total_params": ts_counts.total, "metrics": info["val"]})
    for primary in PRIMARIES:
        for name, method, aux in _method_runs(primary):
            rows.append(_row(method, primary, aux, paths.run(name), results[f"stage2/{name}"]))
    generalist = {cluster: paths.run(f"egot2-g-{cluster}") for cluster in CLUSTERS}
    for cluster, run in generalist.items():
        rows.extend(_generalist_rows(run, results[f"egot2-g/{cluster}"]))
    for pair in MULTITASK_PAIRS:
        rows.extend(_multitask_rows(pair, paths.run(f"multitask-{'-'.join(pair)}")))

    timings = dict(stages.timings)
    timings["total"] = time.perf_counter() - t_start
    return write_outputs(paths.root, wcfg, seed, rows, generalist, timings, stages.reused)


MULTITASK_PAIRS = (("pnr", "oscc"), ("lam", "ttm"))
# Rough durations in seconds of the default study's stages (one torch thread), which order the ready jobs
# by the chain of work waiting on them (:func:`egot2.study.jobs.chain_costs`).
TS_COST = {"ar": 170.0, "asd": 130.0, "lam": 90.0, "ttm": 75.0, "oscc": 60.0, "lta": 50.0, "pnr": 15.0}
CACHE_COST = {"lam": 50.0, "asd": 42.0, "ar": 25.0, "lta": 22.0, "ttm": 19.0, "oscc": 11.0, "pnr": 6.0}
STAGE2_COST = {"asd": 12.0, "ttm": 4.0, "ar": 6.0, "lta": 4.0, "oscc": 3.0, "pnr": 2.0}  # EgoT2-s: 4 x
GENERALIST_COST = {"human-human": 200.0, "human-object": 120.0}
MULTITASK_COST = {("pnr", "oscc"): 117.0, ("lam", "ttm"): 55.0}


def _ts_jobs(paths: StudyPaths, sched: Schedule, seed: int, world_key: str, progress: bool) -> list[Job]:
    """Stage I: one TS model per task (LTA starts from AR's backbone)."""
    from egot2.training.stage1 import train_ts

    jobs, keys = [], {}
    for task in TS_ORDER:
        train = TrainConfig(epochs=sched.ts_epochs[task], batch_size=sched.ts_batch, lr=sched.ts_lr, seed=seed,
                            memory_cache=True)
        init = paths.ts("ar") if task == "lta" else None
        keys[task] = content_key("ts", task, world_key, dataclasses.asdict(train), keys.get("ar") if init else None)
        jobs.append(Job(f"stage1/{task}", paths.ts(task), lambda k=keys[task]: k,
                        lambda resume, t=task, tr=train, i=init: train_ts(
                            t, paths.world, paths.ts(t), train=tr, init_from=i, resume=resume, progress=progress),
                        deps=("stage1/ar",) if init else (), cost=TS_COST.get(task, 1.0)))
    return jobs


def _ts_key(paths: StudyPaths, task: str) -> str:
    """The content key a finished stage-I run was made with (read from its stage record)."""
    record = paths.root / ".stages" / f"stage1__{task}.stage.json"
    return json.loads(record.read_text())["key"]


def _cache_jobs(paths: StudyPaths, sched: Schedule, progress: bool) -> list[Job]:
    """Feature caches, one per task whose clips a translator reads."""
    jobs = []
    for task in (*PRIMARIES, "lam"):
        cluster = next(c for c, ts in CLUSTERS.items() if task in ts)
        ts_runs = [paths.ts(t) for t in CLUSTERS[cluster]]
        aux = [a for a in default_aux(get_task(task)) if a != "lta"] if task != "lam" else ["ttm", "asd"]
        jobs.append(Job(
            f"cache/{task}", paths.cache(task),
            lambda c=cluster, t=task: content_key("cache", t, [_ts_key(paths, x) for x in CLUSTERS[c]], sched.max_clips),
            lambda resume, t=task, r=ts_runs, a=aux: extract(
                t, paths.world, r, paths.cache(t), splits=["train", "val"], progress=progress, limit=sched.max_clips,
                aux=a),
            deps=tuple(f"stage1/{t}" for t in CLUSTERS[cluster]), cost=CACHE_COST.get(task, 10.0)))
    return jobs


def _stage2_jobs(paths: StudyPaths, sched: Schedule, seed: int, progress: bool) -> list[Job]:
    """Stage II: every method for every primary."""
    from egot2.training.stage2 import train_stage2

    jobs = []
    for primary in PRIMARIES:
        for name, method, aux in _method_runs(primary):
            overrides = [f"model.method={method}", f"model.primary={primary}", *TRANSLATOR,
                         f"model.translator.positions={positions(primary)}", f"train.epochs={sched.epochs_for(primary)}",
                         f"train.batch_size={sched.batch}", f"train.lr={sched.lr}", f"train.seed={seed}"]
            if aux is not None:
                overrides.append(f"model.aux=[{','.join(aux)}]")
            if method == "egot2-s":
                overrides += sched.egot2s_overrides
            cfg = load_config([], overrides)
            jobs.append(Job(
                f"stage2/{name}", paths.run(name),
                # keyed on the resolved config: a changed default retrains, and a run is never loaded
                # with a config it was not trained with
                lambda c=cfg, p=primary: content_key("stage2", dataclasses.asdict(c), file_sha256(paths.cache(p) / "meta.json")),
                lambda resume, c=cfg, n=name, p=primary: train_stage2(c, paths.cache(p), paths.run(n), resume=resume,
                                                                      progress=progress),
                deps=(f"cache/{primary}",), cost=STAGE2_COST[primary] * (4.0 if method == "egot2-s" else 1.0)))
    return jobs


def _generalist_jobs(paths: StudyPaths, sched: Schedule, seed: int, progress: bool) -> list[Job]:
    """EgoT2-g, one per cluster."""
    from egot2.training.joint import train_generalist

    jobs = []
    for cluster in CLUSTERS:
        name = f"egot2-g-{cluster}"
        hh = cluster == "human-human"
        overrides = ["model.method=egot2-g", f"model.generalist.cluster={cluster}", *TRANSLATOR,
                     f"model.translator.positions={'task-sinusoidal' if hh else 'learned'}",
                     "model.translator.max_tokens=0" if hh else "model.translator.max_tokens=64",
                     f"model.generalist.max_len={302 if hh else 64}", "model.generalist.decoder_layers=2",
                     f"train.epochs={sched.generalist_epochs}", f"train.batch_size={sched.batch}",
                     f"train.lr={sched.lr}", f"train.seed={seed}", f"train.combine={sched.combine[cluster]}",
                     *sched.generalist_overrides]
        if not hh:
            overrides.append("model.streams=[pnr.tokens,oscc.tokens,ar.slow,ar.fast,lta.clips,pnr.clip,oscc.clip,"
                             "ar.clip]")
        cfg = load_config([], overrides)
        tasks = list(generalist_layouts(dataclasses.replace(cfg.model, dims={})))
        jobs.append(Job(
            f"egot2-g/{cluster}", paths.run(name),
            lambda c=cfg, ts=tasks: content_key("egot2-g", dataclasses.asdict(c),
                                                [file_sha256(paths.cache(t) / "meta.json") for t in ts]),
            lambda resume, c=cfg, n=name: train_generalist(c, paths.root / "caches", paths.run(n), resume=resume,
                                                           progress=progress),
            deps=tuple(f"cache/{t}" for t in tasks), cost=GENERALIST_COST[cluster]))
    return jobs


def _multitask_jobs(paths: StudyPaths, sched: Schedule, seed: int, world_key: str, progress: bool) -> list[Job]:
    """The multi-task hard-sharing baseline (trained from the raw clips, like stage I)."""
    from egot2.training.multitask import train_multitask

    jobs = []
    for pair in MULTITASK_PAIRS:
        name = f"multitask-{'-'.join(pair)}"
        train = TrainConfig(epochs=max(sched.ts_epochs[t] for t in pair), batch_size=sched.ts_batch,
                            lr=sched.ts_lr, seed=seed, memory_cache=True,
                            combine=sched.combine[next(c for c, ts in CLUSTERS.items() if pair[0] in ts)])
        key = content_key("multitask", pair, world_key, dataclasses.asdict(train))
        jobs.append(Job(name, paths.run(name), lambda k=key: k,
                        lambda resume, p=pair, n=name, tr=train: train_multitask(p, paths.world, paths.run(n), tr,
                                                                                 progress=progress),
                        cost=MULTITASK_COST[pair]))
    return jobs


def _row(method: str, primary: str, aux: list[str] | None, run: Path, result: dict[str, Any]) -> dict[str, Any]:
    from egot2.training.runs import load_run

    cfg, info, _ = load_run(run)
    layout = model_layout(cfg.model)
    from egot2.methods import build_model

    counts = count_parameters(build_model(cfg.model))
    tasks = list(dict.fromkeys(s.task for s in layout))
    return {"method": method, "primary": primary, "aux": list(aux or [t for t in tasks if t != primary]),
            "trainable_params": counts.trainable, "total_params": counts.total + _ts_params(tasks),
            "metrics": info["val"]}


def _generalist_rows(run: Path, result: dict[str, Any]) -> list[dict[str, Any]]:
    from egot2.methods import build_model
    from egot2.training.runs import load_run

    cfg, info, _ = load_run(run)
    counts = count_parameters(build_model(cfg.model))
    tasks = info["tasks"]
    total = counts.total + _ts_params(tasks)
    return [{"method": "egot2-g", "primary": t, "aux": [a for a in tasks if a != t],
             "trainable_params": counts.trainable, "total_params": total,
             "metrics": {k: v for k, v in info["val"][t].items()}} for t in tasks]


def _multitask_rows(pair: tuple[str, str], run: Path) -> list[dict[str, Any]]:
    from egot2.training.multitask import build_hard_sharing

    info = json.loads((run / "run.json").read_text())
    counts = count_parameters(build_hard_sharing(pair))
    return [{"method": "multitask", "primary": t, "aux": [a for a in pair if a != t],
             "trainable_params": counts.trainable, "total_params": counts.total, "metrics": info["val"][t]}
            for t in pair]
