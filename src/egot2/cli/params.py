"""``egot2 params``: build models and print their trainable and total parameter counts."""

from __future__ import annotations

import argparse
import json

from egot2.config import load_config
from egot2.methods import build_model
from egot2.utils.params import count_parameters

NAME = "params"
HELP = "Build each model of the given configs (or the TS models) and print trainable/total parameters."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="YAML config files (deltas over the defaults)")
    p.add_argument("--ts", choices=["full", "tiny"], help="list the task-specific models at this size instead")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def config_params(paths: list[str]) -> list[dict[str, object]]:
    """``[{"config", "method", "primary", "trainable", "total"}]`` for each config file."""
    rows = []
    for path in paths:
        cfg = load_config([path])
        counts = count_parameters(build_model(cfg.model))
        primary = None if cfg.model.method == "egot2-g" else cfg.model.primary
        rows.append({"config": path, "method": cfg.model.method, "primary": primary,
                     "trainable": counts.trainable, "total": counts.total})
    return rows


def ts_params(size: str) -> list[dict[str, object]]:
    """``[{"task", "size", "trainable", "total"}]`` for every TS model at ``size``."""
    from egot2.backbones import build_ts_model, ts_tasks

    rows = []
    for task in ts_tasks():
        counts = count_parameters(build_ts_model(task, size))
        rows.append({"task": task, "size": size, "trainable": counts.trainable, "total": counts.total})
    return rows


def run(args: argparse.Namespace) -> int:
    if not args.configs and not args.ts:
        from egot2.errors import UserInputError

        raise UserInputError("give one or more CONFIG files, or --ts full|tiny", field="configs")
    rows = ts_params(args.ts) if args.ts else config_params(args.configs)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    first = "task" if args.ts else "config"
    table = Table(first, "trainable", "total")
    for r in rows:
        table.add_row(str(r[first]), f"{r['trainable'] / 1e6:.2f}M", f"{r['total'] / 1e6:.2f}M")
    Console().print(table)
    return 0
