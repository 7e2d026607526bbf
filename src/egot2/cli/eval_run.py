"""``egot2 eval``: the official metrics of a trained run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "eval"
HELP = ("Write a trained run's prediction file for its cache's val (or test) split and report the official "
        "metrics of that file.")

SOURCES = {"evaluate": "official evaluation of the prediction file", "cache": "scored from the cache",
           "online": "scored from the labels of an online run"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, help="run folder written by `egot2 train` (a TS run too: `train --method ts` or "
                   "`train-ts`)")
    p.add_argument("--split", default="val", choices=["val", "test"])
    p.add_argument("--cache", type=Path, help="a cache other than the one the run was trained from")
    p.add_argument("--predictions", type=Path, metavar="FILE",
                   help="where to write the prediction file (default RUN/predictions_<split>.<json|csv>); "
                   "EgoT2-g: a folder for one file per task, predictions_<task>_<split>.<json|csv> (default RUN)")
    p.add_argument("--data", type=Path, help="the data folder with the annotations (default: the one the cache was "
                   "extracted from)")
    p.add_argument("--json", action="store_true",
                   help='print {"task", "split", "metrics", "predictions", "scored_by"}')


def run(args: argparse.Namespace) -> int:
    from egot2.training.stage2 import evaluate_run

    result = evaluate_run(args.run, args.split, args.cache, args.predictions, args.data)
    results = result if isinstance(result, list) else [result]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for r in results:
        values = ", ".join(f"{k} {'null' if v is None else f'{v:.4f}'}" for k, v in r["metrics"].items())
        print(f"{r['task']} ({r['split']}): {values or '-'} [{SOURCES.get(r['scored_by'], 'no labels')}]")
        if r.get("predictions"):
            print(f"  predictions: {r['predictions']}")
    return 0
