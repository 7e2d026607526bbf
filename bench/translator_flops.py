"""Translator efficiency: the FLOP rate of an EgoT2-s training step against a large float32 matmul.

A training step is forward + task loss + backward + AdamW step, on random token streams of the paper
TTM and OSCC layouts (batch 64; per-frame streams get :data:`FRAMES` frames). Its FLOP rate is compared
with the rate of a ``2048 x 2048 @ 2048 x 2048`` float32 matmul timed in the same process, alternating
with the steps, once with torch's default thread count and once with one thread (``-1thread`` records,
far less disturbed by other jobs on a shared machine). Goal: ratio >= 0.25.

FLOPs are counted from the shapes each matmul sees (:func:`count_flops`), not measured: every
``nn.Linear`` costs ``2 * rows * in * out`` forward; every ``nn.MultiheadAttention`` costs its input and
output projections the same way plus ``2 * L * S * D`` for ``Q K^T`` and again for ``A V`` per batch
element. Backward costs each matmul once per operand that needs a gradient: twice the forward, except
the projections of the (frozen) token streams, whose input needs no gradient, once. LayerNorm, softmax,
activations, the loss and the optimiser step are not counted (they are a few FLOPs per element, not per
element times a width). Run ``python -m bench.translator_flops --profile`` for where the time goes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from bench.common import FRAMES, interleaved, medians, random_streams, result, thread_counts, torch_threads
from egot2.config import load_config
from egot2.methods import build_model, model_layout
from egot2.tasks import TaskSpec, get_task
from egot2.tasks.spec import OutputKind

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "paper"
TASKS = ("ttm", "oscc")
BATCH = 64
MATMUL_N = 2048
GOAL = ">= 0.25"


@dataclass(frozen=True)
class Flops:
    """Matmul FLOPs of one pass.

    Args:
        forward: FLOPs of the forward pass.
        backward: FLOPs of the backward pass (weight and input gradients).
    """

    forward: int
    backward: int

    @property
    def training(self) -> int:
        """Forward + backward."""
        return self.forward + self.backward


def _matmul(flops: int, a_grad: bool, b_grad: bool) -> tuple[int, int]:
    """(forward, backward) of one matmul: backward computes one product per operand needing a gradient."""
    return flops, flops * (int(a_grad) + int(b_grad))


def count_flops(model: nn.Module, run: Callable[[], object]) -> Flops:
    """Count the matmul FLOPs of ``run()`` (a forward of ``model``) from the shapes its layers see.

    Counted: every ``nn.Linear`` call (``2 * rows * in * out``) and every ``nn.MultiheadAttention`` call
    (its q/k/v and output projections, plus ``2 * B * heads * L * S * head_dim`` for ``Q K^T`` and the same
    for ``A V``). A matmul's backward costs its forward once per operand that requires a gradient (the
    weight; the input when it requires grad). ``run`` must run with autograd enabled so that
    ``requires_grad`` of the inputs is meaningful; nothing is backpropagated.

    Args:
        model: the module whose submodules are hooked.
        run: a zero-argument callable running one forward pass.
    """
    fwd = bwd = 0
    inside_mha = {id(m.out_proj) for m in model.modules() if isinstance(m, nn.MultiheadAttention)}

    def add(pair: tuple[int, int]) -> None:
        nonlocal fwd, bwd
        fwd += pair[0]
        bwd += pair[1]

    def linear_hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        x = inputs[0]
        rows = x.numel() // module.in_features
        add(_matmul(2 * rows * module.in_features * module.out_features, x.requires_grad,
                    module.weight.requires_grad))

    def mha_hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        given = dict(zip(("query", "key", "value"), args))
        q, k, v = (given.get(name, kwargs.get(name)) for name in ("query", "key", "value"))
        if not module.batch_first:
            q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        b, n_q, d = q.shape  # (B, L, D)
        n_k = k.shape[1]
        w_grad = any(p.requires_grad for p in module.parameters())
        add(_matmul(2 * b * n_q * d * d, q.requires_grad, w_grad))  # W_q
        add(_matmul(2 * b * n_k * k.shape[-1] * d, k.requires_grad, w_grad))  # W_k
        add(_matmul(2 * b * n_k * v.shape[-1] * d, v.requires_grad, w_grad))  # W_v
        qkv_grad = w_grad or q.requires_grad or k.requires_grad or v.requires_grad
        add(_matmul(2 * b * n_q * n_k * d, qkv_grad, qkv_grad))  # Q K^T over all heads
        add(_matmul(2 * b * n_q * n_k * d, qkv_grad, qkv_grad))  # A V
        add(_matmul(2 * b * n_q * d * d, qkv_grad, module.out_proj.weight.requires_grad))  # W_o

    handles = []
    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            handles.append(m.register_forward_hook(mha_hook, with_kwargs=True))
        elif isinstance(m, nn.Linear) and id(m) not in inside_mha:
            handles.append(m.register_forward_hook(linear_hook))
    try:
        with torch.enable_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return Flops(fwd, bwd)


def random_labels(spec: TaskSpec, batch: int, frames: int, seed: int = 0) -> dict[str, Tensor]:
    """Random labels of ``spec``'s output kind for ``batch`` clips."""
    g = torch.Generator().manual_seed(seed)
    out = spec.output
    if out.kind is OutputKind.SEQUENCE:
        return {"verb": torch.randint(out.num_verbs, (batch, out.steps), generator=g),
                "noun": torch.randint(out.num_nouns, (batch, out.steps), generator=g)}
    if out.kind is OutputKind.VERB_NOUN:
        return {"verb": torch.randint(out.num_verbs, (batch,), generator=g),
                "noun": torch.randint(out.num_nouns, (batch,), generator=g)}
    if out.kind is OutputKind.FRAME_BINARY:
        return {"label": torch.randint(out.num_classes, (batch, frames), generator=g)}
    return {"label": torch.randint(out.num_classes, (batch,), generator=g)}


@dataclass
class TrainStep:
    """One paper EgoT2-s config ready to train on a fixed random batch."""

    task: str
    model: nn.Module
    spec: TaskSpec
    streams: dict[str, Tensor]
    labels: dict[str, Tensor]
    optimizer: torch.optim.Optimizer

    def __call__(self) -> None:
        """forward + loss + backward + optimiser step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.spec.compute_loss(self.model(self.streams), self.labels)
        loss.backward()
        self.optimizer.step()

    def flops(self) -> Flops:
        """Matmul FLOPs of one step (forward + backward; the loss and optimiser are not counted)."""
        return count_flops(self.model, lambda: self.model(self.streams))


def build_step(task: str, batch: int = BATCH, frames: int = FRAMES, overrides: Sequence[str] = ()) -> TrainStep:
    """The paper EgoT2-s config of ``task`` (plus ``a.b=value`` overrides) in train mode, a random batch
    and AdamW."""
    cfg = load_config([CONFIGS / f"egot2s_{task}.yaml"], overrides)
    torch.manual_seed(0)
    model = build_model(cfg.model).train()
    spec = get_task(cfg.model.primary)
    streams = random_streams(model_layout(cfg.model), batch, frames)
    labels = random_labels(spec, batch, frames)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    return TrainStep(task, model, spec, streams, labels, opt)


def matmul_reference(n: int) -> tuple[Callable[[], None], int]:
    """A float32 ``n x n @ n x n`` matmul into a preallocated output, and its FLOPs (``2 n^3``)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    c = torch.empty(n, n)

    def mm() -> None:
        torch.mm(a, b, out=c)

    return mm, 2 * n**3


def run(quick: bool = False, overrides: Sequence[str] = ()) -> list[dict[str, Any]]:
    """FLOP rate of each config's training step over the matmul's: one record per config and thread count.

    Every comparison runs at each of :func:`bench.common.thread_counts` (the default, then one thread).

    Args:
        quick: batch 8, a 1024 matmul and two repetitions (a smoke run).
        overrides: ``a.b=value`` config overrides for a diagnostic run (``model.translator.dropout=0.0``);
            they are named in the records.
    """
    batch, repeats, n = (8, 2, 1024) if quick else (BATCH, 9, MATMUL_N)
    steps = {t: build_step(t, batch, overrides=overrides) for t in TASKS}
    flops = {t: s.flops() for t, s in steps.items()}
    variant = f" with {' '.join(overrides)}" if overrides else ""
    suffix = "-" + "-".join(overrides) if overrides else ""
    mm, mm_flops = matmul_reference(n)
    mm_label = f"matmul {n}^3 s"
    fns: dict[str, Callable[[], object]] = {mm_label: mm}
    fns.update({f"{t} step s": s for t, s in steps.items()})
    records = []
    for threads in thread_counts():
        with torch_threads(threads):
            med = medians(interleaved(fns, repeats=repeats, warmup=1))
        mm_rate = mm_flops / med[mm_label]
        for t, f in flops.items():
            rate = f.training / med[f"{t} step s"]
            records.append(result(
                f"translator-flops-{t}{'-1thread' if threads == 1 else ''}{suffix}",
                f"FLOP/s of an EgoT2-s {t.upper()} training step (paper config{variant}, batch {batch}) / "
                f"FLOP/s of a float32 {n}x{n} matmul, {threads} thread(s)",
                rate / mm_rate,
                {f"{t} step s": med[f"{t} step s"], mm_label: med[mm_label]},
                goal=GOAL,
                flops={"forward": f.forward, "backward": f.backward, "training": f.training},
                gflop_per_s={"step": rate / 1e9, "matmul": mm_rate / 1e9},
                threads=threads,
                batch=batch,
                frames=FRAMES,
                repeats=repeats,
                overrides=list(overrides),
                quick=quick,
            ))
    return records


def profile(task: str, batch: int = BATCH, rows: int = 20, overrides: Sequence[str] = ()) -> str:
    """A :mod:`torch.profiler` table (self CPU time) of three training steps of ``task``."""
    step = build_step(task, batch, overrides=overrides)
    step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.translator_flops [--profile] [--quick] [OVERRIDES...]``: print the ratios with
    their FLOP counts, or profiles."""
    parser = argparse.ArgumentParser(prog="python -m bench.translator_flops")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler tables of each config")
    parser.add_argument("--quick", action="store_true", help="batch 8")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. model.translator.dropout=0.0")
    args = parser.parse_args(argv)
    if args.profile:
        batch = 8 if args.quick else BATCH
        for t in TASKS:
            print(f"== {t} (batch {batch}) ==\n{profile(t, batch, overrides=args.overrides)}")
        return
    for r in run(quick=args.quick, overrides=args.overrides):
        f, rate = r["flops"], r["gflop_per_s"]
        print(f"{r['name']}: ratio {r['ratio']:.3f} (goal {r['goal']}); step {f['forward'] / 1e9:.2f} GFLOP "
              f"forward + {f['backward'] / 1e9:.2f} backward at {rate['step']:.1f} GFLOP/s, "
              f"matmul {rate['matmul']:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
