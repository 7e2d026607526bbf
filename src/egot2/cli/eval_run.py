"""``egot2 eval``: the official metrics of a trained run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "eval"
HELP = "Report a trained run's official metrics on its cache's val (or test) split."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, help="run folder written by `egot2 train`")
    p.add_argument("--split", default="val", choices=["val", "test"])
    p.add_argument("--cache", type=Path, help="a cache other than the one the run was trained from")
    p.add_argument("--json", action="store_true", help='print {"task", "split", "metrics"}')


def run(args: argparse.Namespace) -> int:
    from egot2.training.stage2 import evaluate_run

    result = evaluate_run(args.run, args.split, args.cache)
    results = result if isinstance(result, list) else [result]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for r in results:
        print(f"{r['task']} ({r['split']}): " + ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items()))
    return 0
