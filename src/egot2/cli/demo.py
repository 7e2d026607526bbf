"""``egot2 demo``: the paper's whole study on the synthetic world (the main job).

World -> stage I for the seven tasks -> feature caches -> for each of the six primaries: TS,
Finetuning, Transfer from each auxiliary task, Late Fusion, EgoT2-s -> EgoT2-g per cluster ->
evaluation on val -> results.json, tables.md, relations.png, attention/*.png, report.html. A re-run
with unchanged inputs reuses finished stages; an interrupted run resumes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "demo"
HELP = "Run the paper's study end to end on the synthetic world (the main job)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="the quick world and short schedules")
    p.add_argument("--out", type=Path, default=Path("egot2-demo"), help="output folder (default: egot2-demo)")
    p.add_argument("--world", type=Path, help="a world config YAML (deltas over the size preset)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--workers", type=int, help="stages run side by side, one torch thread each (default: the CPUs; "
                   "the results do not depend on it)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from egot2.study.pipeline import run_study

    console = Console()
    results = run_study(args.out, quick=args.quick, world=args.world, seed=args.seed,
                        log=lambda line: console.print(line, highlight=False, markup=False), progress=not args.quiet,
                        workers=args.workers)
    console.print((args.out / "tables.md").read_text(), highlight=False)
    dp = ", ".join(f"{m} {v:+.1f}%" for m, v in results["delta_p"].items() if v is not None)
    console.print(f"Δp over TS: {dp}")
    sp = results["relations"]["ground_truth_comparison"]["spearman"]
    console.print(f"learned vs planted relations, Spearman: {'n/a' if sp is None else f'{sp:.2f}'}")
    for claim in results["claims"]:
        console.print(f"{'holds' if claim['holds'] else 'does not hold'}: {claim['claim']}", highlight=False,
                      markup=False)
    console.print(f"wrote {args.out}/results.json, tables.md, relations.png, attention/, report.html "
                  f"in {results['timings_s']['total']:.0f} s")
    return 0
