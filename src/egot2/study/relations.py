"""Task relations from attention (paper Fig. 1): how much each task's prediction attends to each task's
tokens, compared with the relations the synthetic world planted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from egot2.analysis.attention import task_attention_mass
from egot2.features.cache import CacheSplit
from egot2.generalist import EgoT2G
from egot2.methods import build_model, generalist_layouts, model_layout
from egot2.tasks import get_task
from egot2.tasks.copies import source_task
from egot2.training.cached_data import CachedStreams, collate_cached
from egot2.training.runs import load_run


def _batches(cache: Path, keys: list[str], limit: int, batch: int = 16):  # noqa: ANN202
    ds = CachedStreams(CacheSplit(cache, "val"), keys)
    n = min(len(ds), limit)
    for i in range(0, n, batch):
        yield collate_cached([ds[j] for j in range(i, min(i + batch, n))])


@torch.no_grad()
def generalist_relations(run: Path, caches: Path, limit: int = 64) -> dict[str, dict[str, float]]:
    """``{task i: {task j: attention mass of task i's prompt on task j's tokens}}`` from an EgoT2-g run:
    the last decoder layer's cross-attention at the prompt, averaged over heads, time and val clips."""
    cfg, _, weights = load_run(run)
    model = build_model(cfg.model)
    assert isinstance(model, EgoT2G)
    model.load_state_dict(weights)
    model.eval()
    out: dict[str, dict[str, float]] = {}
    for task, layout in generalist_layouts(cfg.model).items():
        keys = [s.key for s in layout]
        totals: dict[str, float] = {}
        count = 0
        for b in _batches(caches / task, keys, limit):
            streams, masks = b["streams"], b["masks"] or None
            segments = model.segments(task, streams)  # of one frame window when clips are cut
            for head in model.tokenizers[task].heads:
                gen = model.generate(streams, head, masks, frames=1 if task != "asd" else
                                     max(v.shape[1] for v in streams.values()))
                att = gen.prompt_attention  # (B, heads, N)
                assert att is not None
                mass = task_attention_mass(att[:, :, None, :], segments)
                for t, m in mass.items():
                    totals[source_task(t)] = totals.get(source_task(t), 0.0) + m * att.shape[0]
                count += att.shape[0]
        out[task] = {t: v / max(count, 1) for t, v in totals.items()}
    return out


@torch.no_grad()
def translator_relations(run: Path, cache: Path, limit: int = 64) -> tuple[dict[str, float], dict[str, Any]]:
    """An EgoT2-s run's attention mass per task (last encoder layer, every query, averaged over heads
    and val clips), and one clip's attention over tasks and time for plotting (paper Fig. 5)."""
    cfg, _, weights = load_run(run)
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    model.eval()
    keys = [s.key for s in model_layout(cfg.model)]
    totals: dict[str, float] = {}
    count, example = 0, {}
    for b in _batches(cache, keys, limit):
        out = model(b["streams"], b["masks"] or None, return_attention=True)
        att = out["attention"][-1]  # (B, heads, N, N)
        segments = model.segments(b["streams"])
        for t, m in task_attention_mass(att, segments).items():
            totals[t] = totals.get(t, 0.0) + m * att.shape[0]
        count += att.shape[0]
        if not example:
            example = {"id": b["ids"][0], "segments": segments,
                       "received": att[0].mean(dim=(0, 1)).tolist()}  # attention each token receives
    return {t: v / max(count, 1) for t, v in totals.items()}, example


@torch.no_grad()
def translator_ablation(run: Path, cache: Path, limit: int = 256) -> dict[str, float]:
    """How much an EgoT2-s run's val loss rises when one auxiliary task's tokens are hidden from the
    translator (masked out of every attention), per auxiliary task: a relation measured by what the
    model uses rather than by where it looks (attention mass also follows token counts)."""
    cfg, _, weights = load_run(run)
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    model.eval()
    layout = model_layout(cfg.model)
    spec = get_task(cfg.model.primary)
    aux = [t for t in dict.fromkeys(s.task for s in layout) if source_task(t) != spec.name]
    sums = {t: 0.0 for t in ["", *aux]}
    count = 0
    for b in _batches(cache, [s.key for s in layout], limit):
        n = len(b["ids"])
        masks = dict(b["masks"] or {})
        for t in sums:
            hidden = dict(masks)
            for s in layout:
                if s.task == t:
                    x = b["streams"][s.key]
                    hidden[s.key] = torch.zeros(x.shape[:2], dtype=torch.bool)  # (B, T_k): no real token
            loss = spec.compute_loss(model(b["streams"], hidden or None), b["labels"])
            sums[t] += float(loss) * n
        count += n
    base = sums.pop("") / max(count, 1)
    return {t: v / max(count, 1) - base for t, v in sums.items()}


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either side is constant."""
    def ranks(x: Sequence[float]) -> list[float]:
        order = sorted(range(len(x)), key=lambda i: x[i])
        r = [0.0] * len(x)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return float("nan") if va == 0 or vb == 0 else cov / (va * vb)


def compare_with_ground_truth(learned: dict[str, dict[str, float]], truth: dict[str, Any]) -> dict[str, Any]:
    """Spearman correlation between learned off-diagonal relations and the planted ones, over the pairs
    both define (aux -> primary within a translator)."""
    pairs, a, b = [], [], []
    for primary, row in learned.items():
        for aux, value in row.items():
            planted = truth["matrix"].get(primary, {}).get(aux)
            if aux == primary or planted is None:
                continue
            pairs.append([aux, primary])
            a.append(value)
            b.append(planted)
    return {"pairs": pairs, "learned": a, "planted": b, "spearman": spearman(a, b) if len(a) > 2 else None}
