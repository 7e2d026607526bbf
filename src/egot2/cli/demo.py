"""``egot2 demo``: the main job.

Until the end-to-end study lands (stage I, caches, every baseline, report), the demo builds the six
paper EgoT2-s translators from ``configs/paper``, runs each on random token streams of the right shapes,
and prints parameter counts, output shapes and how the primary's prediction attends over tasks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "demo"
HELP = "Run the main job (currently: build the paper translators and run them on random token streams)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configs", type=Path, default=None, help="folder of EgoT2-s configs (default: configs/paper)")
    p.add_argument("--frames", type=int, default=30, help="frames per clip for per-frame streams")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from egot2.analysis.demo_random import find_paper_configs, run_random_demo

    folder = args.configs or find_paper_configs()
    rows = run_random_demo(folder, frames=args.frames, seed=args.seed)
    table = Table("config", "primary", "tokens", "trainable", "outputs", "attention mass by task (last layer)",
                  title="EgoT2-s paper translators on random token streams")
    for r in rows:
        mass = ", ".join(f"{t} {m:.2f}" for t, m in r["task_attention"].items())
        outs = ", ".join(f"{k} {tuple(v)}" for k, v in r["outputs"].items())
        table.add_row(r["config"], r["primary"], str(r["tokens"]), f"{r['trainable'] / 1e6:.2f}M", outs, mass)
    Console().print(table)
    return 0
