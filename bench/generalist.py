"""EgoT2-g costs (issue 7): the decoder's key/value cache, and one EgoT2-g against the six EgoT2-s.

(a) Greedy generation of a 42-token LTA answer (prompt + 20 (verb, noun) pairs + ``</s>``) with the
paper human-object EgoT2-g, batch 8, with the key/value cache against recomputing the prefix every
step (``use_cache=False``), at the default thread count and at one thread. Goal: the cache is >= 3x
faster.

(b) The paper's two EgoT2-g models against its six EgoT2-s models: total trainable parameters, and the
latency of answering every task for one clip of each (batch 1, eval mode). EgoT2-g: for each task, the
translator's encoder on that task's clip and greedy generation for each prompt (AR has two, each
through :meth:`EgoT2G.generate`, which encodes the clip again); EgoT2-s: the forward of that task's
model. Both sides answer the six tasks EgoT2-s has a model for (PNR, OSCC, AR, LTA, TTM, ASD); LAM,
which only EgoT2-g answers, is left out of the latency. No goal: these ratios describe the trade-off.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench.common import FRAMES, interleaved, medians, random_streams, result, thread_counts, torch_threads
from egot2.config import load_config
from egot2.generalist import EgoT2G
from egot2.methods import build_model, generalist_layouts, model_layout
from egot2.utils.params import count_parameters

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "paper"
GENERALISTS = ("human_object", "human_human")
SPECIALISTS = ("pnr", "oscc", "ar", "lta", "ttm", "asd")
CACHE_GOAL = ">= 3"
CLIP_FRAMES = {"lam": 7, "ttm": FRAMES, "asd": FRAMES}  # per-frame tasks: frames of one clip


def generalist_model(cluster: str) -> tuple[EgoT2G, dict[str, list[Any]]]:
    """The paper EgoT2-g of ``cluster`` (``human_object`` / ``human_human``) and each task's layout."""
    cfg = load_config([CONFIGS / f"egot2g_{cluster}.yaml"])
    torch.manual_seed(0)
    model = build_model(cfg.model).eval()
    assert isinstance(model, EgoT2G)
    return model, generalist_layouts(cfg.model)


def cache_vs_recompute(quick: bool = False) -> list[dict[str, Any]]:
    """(a): LTA generation with and without the key/value cache, interleaved; one record per thread count
    (:func:`bench.common.thread_counts`)."""
    batch, repeats = (2, 2) if quick else (8, 7)
    model, layouts = generalist_model("human_object")
    streams = random_streams(layouts["lta"], batch, FRAMES)
    cached = model.generate(streams, "lta", use_cache=True)
    recomputed = model.generate(streams, "lta", use_cache=False)
    fns: dict[str, Callable[[], object]] = {
        "cached s": lambda: model.generate(streams, "lta", use_cache=True),
        "recompute s": lambda: model.generate(streams, "lta", use_cache=False),
    }
    records = []
    for threads in thread_counts():
        with torch_threads(threads):
            med = medians(interleaved(fns, repeats=repeats, warmup=1))
        records.append(result(
            f"generalist-kv-cache{'-1thread' if threads == 1 else ''}",
            f"time to generate a 42-token LTA answer (paper human-object EgoT2-g, batch {batch}) recomputing "
            f"the prefix each step / with the key/value cache, {threads} thread(s)",
            med["recompute s"] / med["cached s"],
            med,
            goal=CACHE_GOAL,
            tokens=1 + int(cached.tokens.shape[1]),
            same_tokens=bool(torch.equal(cached.tokens, recomputed.tokens)),
            threads=threads,
            batch=batch,
            repeats=repeats,
            quick=quick,
        ))
    return records


def _generalist_answer(model: EgoT2G, streams: dict[str, torch.Tensor], task: str, frames: int) -> Callable[[], None]:
    heads = model.tokenizers[task].heads

    def answer() -> None:
        for head in heads:
            model.generate(streams, head, frames=frames)

    return answer


def _specialist_answer(model: nn.Module, streams: dict[str, torch.Tensor]) -> Callable[[], None]:
    def answer() -> None:
        with torch.no_grad():
            model(streams)

    return answer


def generalist_vs_specialists(quick: bool = False) -> list[dict[str, Any]]:
    """(b): trainable parameters and per-clip latency of the two EgoT2-g against the six EgoT2-s."""
    repeats = 2 if quick else 7
    generalists = {c: generalist_model(c) for c in GENERALISTS}
    specialists = {t: load_config([CONFIGS / f"egot2s_{t}.yaml"]) for t in SPECIALISTS}
    g_params = sum(count_parameters(m).trainable for m, _ in generalists.values())
    s_models = {}
    for t, cfg in specialists.items():
        torch.manual_seed(0)
        s_models[t] = build_model(cfg.model).eval()
    s_params = sum(count_parameters(m).trainable for m in s_models.values())

    fns: dict[str, Callable[[], object]] = {}
    for t in SPECIALISTS:
        frames = CLIP_FRAMES.get(t, FRAMES)
        g_model, layouts = next((m, lay) for m, lay in generalists.values() if t in lay)
        fns[f"egot2-g {t} s"] = _generalist_answer(g_model, random_streams(layouts[t], 1, frames), t, frames)
        s_layout = model_layout(specialists[t].model)
        fns[f"egot2-s {t} s"] = _specialist_answer(s_models[t], random_streams(s_layout, 1, frames))
    med = medians(interleaved(fns, repeats=repeats, warmup=1))
    per_task = {t: {side: med[f"{side} {t} s"] for side in ("egot2-g", "egot2-s")} for t in SPECIALISTS}
    g_time = sum(v["egot2-g"] for v in per_task.values())
    s_time = sum(v["egot2-s"] for v in per_task.values())
    common = {"repeats": repeats, "quick": quick, "tasks": list(SPECIALISTS), "clip_frames": CLIP_FRAMES}
    return [
        result(
            "generalist-vs-specialists-params",
            "trainable parameters of the two paper EgoT2-g models / of the six paper EgoT2-s models",
            g_params / s_params,
            {},
            params={"egot2-g": g_params, "egot2-s": s_params},
            **common,
        ),
        result(
            "generalist-vs-specialists-latency",
            "per-clip latency (batch 1) of answering PNR, OSCC, AR, LTA, TTM and ASD with EgoT2-g (encode + "
            "greedy generation per prompt) / with the six EgoT2-s forwards",
            g_time / s_time,
            {"egot2-g s": g_time, "egot2-s s": s_time},
            per_task_s=per_task,
            **common,
        ),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Both comparisons: the cache records, then the parameter and latency records."""
    return [*cache_vs_recompute(quick), *generalist_vs_specialists(quick)]
