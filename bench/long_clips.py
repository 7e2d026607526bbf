"""Long per-frame clips (ASD's 300-frame track chunks): what attention dropout and frame windows cost.

One training step (forward, backward, optimiser step) of the study's human-human EgoT2-g (translator
dim 64, 2 layers, 4 heads; decoder 2 layers) on the ASD prompt, batch 16 of 300-frame chunks with the
study's streams (ASD frames and visual, LAM, TTM frames, TTM audio: 1,201 tokens), three ways,
interleaved:

- ``dropout``: attention-weight dropout 0.1 (PyTorch's default inside ``nn.MultiheadAttention``), which
  makes every attention take the unfused path;
- ``fused``: attention-weight dropout 0 (fused attention), whole clips;
- ``windows``: fused, and the clip cut into 60-frame windows (``translator.frame_window``).

Ratios: dropout / fused and fused / windows (goal for both > 1: each change makes the step faster).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from bench.common import interleaved, medians, random_streams, result, thread_counts, torch_threads
from egot2.config import load_config
from egot2.generalist import EgoT2G
from egot2.methods import build_model, generalist_layouts

FRAMES = 300
DIMS = {"lam.frames": 32, "ttm.frames": 32, "ttm.audio": 32, "asd.frames": 32, "asd.visual": 16}


def _step(attn_dropout: float, window: int, batch: int) -> Callable[[], None]:
    cfg = load_config([], [
        "model.method=egot2-g", "model.generalist.cluster=human-human", "model.translator.dim=64",
        "model.translator.layers=2", "model.translator.heads=4", "model.translator.ffn=128",
        "model.translator.dropout=0.1", f"model.translator.attn_dropout={attn_dropout}",
        f"model.translator.frame_window={window}", "model.translator.positions=task-sinusoidal",
        "model.translator.max_tokens=0", "model.generalist.max_len=302", "model.generalist.decoder_layers=2",
        *(f"model.dims.{k}={v}" for k, v in DIMS.items()),
    ])
    torch.manual_seed(0)
    model = build_model(cfg.model)
    assert isinstance(model, EgoT2G)
    model.train()
    layout = generalist_layouts(cfg.model)["asd"]
    streams = random_streams(layout, batch, FRAMES)
    labels = {"label": torch.randint(0, 2, (batch, FRAMES), generator=torch.Generator().manual_seed(1))}
    opt = torch.optim.AdamW(model.parameters(), 1e-3)

    def step() -> None:
        loss = model.task_loss("asd", streams, None, labels)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Both ratios, at each thread count (:func:`bench.common.thread_counts`)."""
    batch, repeats = (4, 2) if quick else (16, 5)
    fns: dict[str, Callable[[], object]] = {
        "dropout s": _step(0.1, 0, batch),
        "fused s": _step(0.0, 0, batch),
        "windows s": _step(0.0, 60, batch),
    }
    records = []
    for threads in thread_counts():
        with torch_threads(threads):
            med = medians(interleaved(fns, repeats=repeats, warmup=1))
        suffix = "-1thread" if threads == 1 else ""
        common = {"threads": threads, "batch": batch, "frames": FRAMES, "repeats": repeats, "quick": quick}
        records.append(result(
            f"long-clips-attention-dropout{suffix}",
            f"EgoT2-g ASD training step on {FRAMES}-frame chunks with attention-weight dropout 0.1 / without "
            f"(fused attention), {threads} thread(s)",
            med["dropout s"] / med["fused s"], med, goal="> 1", **common))
        records.append(result(
            f"long-clips-frame-windows{suffix}",
            f"the same step on whole {FRAMES}-frame chunks / in 60-frame windows (both fused), {threads} thread(s)",
            med["fused s"] / med["windows s"], med, goal="> 1", **common))
    return records
