"""``egot2 evaluate TASK --annotations FILE --predictions FILE [--json]``: the official Ego4D metrics."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

from egot2.evaluation import TASKS, EvaluationWarning, evaluate

NAME = "evaluate"
HELP = "Score a predictions file against Ego4D annotations with the official metric of a task."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` arguments to ``parser``."""
    parser.add_argument("task", choices=TASKS, metavar="TASK", help=f"one of: {', '.join(TASKS)}")
    parser.add_argument("--annotations", required=True, metavar="FILE",
                        help="Ego4D annotation file (fho_oscc-pnr for pnr/oscc, fho_lta for ar/lta, av for lam/ttm/asd)")
    parser.add_argument("--predictions", required=True, metavar="FILE",
                        help="predictions in the format of docs/metrics.md")
    parser.add_argument("--json", action="store_true", help='print {"task", "metrics", "counts"} as JSON')
    parser.add_argument("--allow-extra", action="store_true",
                        help="warn about predictions for ids that are not annotated instead of failing")
    parser.add_argument("--taxonomy", metavar="FILE", default=None,
                        help="fho_lta_taxonomy.json giving the label ranges for ar/lta (default: Ego4D v1 sizes)")


def _fmt(value: Any) -> str:
    if value is None:
        return "undefined"
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def format_table(result: dict[str, Any]) -> str:
    """The human-readable report: a metric table, then a count table."""
    metrics, counts = result["metrics"], result["counts"]
    width = max(len(k) for k in [*metrics, *counts, "metric"])
    lines = [f"egot2 evaluate {result['task']}", f"  {'metric':<{width}}  {'value':>12}"]
    lines += [f"  {k:<{width}}  {_fmt(v):>12}" for k, v in metrics.items()]
    lines += [f"  {'count':<{width}}  {'':>12}"] + [f"  {k:<{width}}  {_fmt(v):>12}" for k, v in counts.items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the result; warnings go to stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EvaluationWarning)
        result = evaluate(args.task, args.annotations, args.predictions, allow_extra=args.allow_extra,
                          taxonomy_path=args.taxonomy)
    for w in caught:
        if issubclass(w.category, EvaluationWarning):
            print(f"egot2 {NAME}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_table(result))
    return 0
