"""Tiny EgoT2-g runs of both clusters on the tiny world (made once per session): real feature caches of a
few val clips (copied as the train split), one short training epoch, tiny translators."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from egot2.config import load_config
from egot2.features.extract import extract
from egot2.training.joint import train_generalist
from predict.worlds import TRANSLATOR

CLUSTERS = {"human-object": ("pnr", "oscc", "ar", "lta"), "human-human": ("lam", "ttm", "asd")}
HOI_STREAMS = "model.streams=[pnr.tokens,oscc.tokens,ar.slow,ar.fast,lta.clips,pnr.clip,oscc.clip,ar.clip]"
LIMIT = 2


def _aux(task: str) -> list[str]:
    if task == "lam":
        return ["ttm", "asd"]
    return [a for a in next(ts for ts in CLUSTERS.values() if task in ts) if a not in (task, "lta")]


def _generalist_run(cluster: str, world: Path, ts_runs: dict[str, Path], root: Path) -> Path:
    caches = root / "caches"
    tasks = CLUSTERS[cluster]
    for task in tasks:
        extract(task, world, [ts_runs[t] for t in tasks], caches / task, aux=_aux(task), splits=["val"],
                progress=False, limit=LIMIT)
        shutil.copytree(caches / task / "val", caches / task / "train")
    hh = cluster == "human-human"
    overrides = ["model.method=egot2-g", f"model.generalist.cluster={cluster}", *TRANSLATOR,
                 f"model.translator.positions={'task-sinusoidal' if hh else 'learned'}",
                 f"model.translator.max_tokens={0 if hh else 64}", f"model.generalist.max_len={302 if hh else 64}"]
    cfg = load_config([], overrides if hh else [*overrides, HOI_STREAMS])
    train_generalist(cfg, caches, root / "run", progress=False)
    return root / "run"


@pytest.fixture(scope="session")
def hoi_run(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An EgoT2-g human-object run (PNR, OSCC, AR, LTA); its caches are ``run.json``'s ``cache``."""
    return _generalist_run("human-object", tiny_world, ts_runs, tmp_path_factory.mktemp("hoi"))


@pytest.fixture(scope="session")
def hh_run(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An EgoT2-g human-human run (LAM, TTM, ASD)."""
    return _generalist_run("human-human", tiny_world, ts_runs, tmp_path_factory.mktemp("hh"))
