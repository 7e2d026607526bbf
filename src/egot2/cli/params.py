"""``egot2 params``: build models and print their trainable and total parameter counts."""

from __future__ import annotations

import argparse
import json

from egot2.config import load_config
from egot2.methods import build_model, generalist_layouts, model_layout
from egot2.utils.params import count_parameters

NAME = "params"
HELP = "Build each model of the given configs (or the TS models) and print trainable/total parameters."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="YAML config files (deltas over the defaults)")
    p.add_argument("--ts", choices=["full", "tiny"], help="list the task-specific models at this size instead")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def frozen_ts_params(tasks: list[str], size: str = "full") -> int:
    """Parameters of the frozen TS models of ``tasks`` (counted on the meta device, nothing allocated)."""
    import torch

    from egot2.backbones import build_ts_model

    total = 0
    for task in tasks:
        with torch.device("meta"):
            total += count_parameters(build_ts_model(task, size)).total
    return total


def config_params(paths: list[str]) -> list[dict[str, object]]:
    """``[{"config", "method", "primary", "trainable", "total"}]`` for each config file. ``total`` adds
    the full-size TS models the model reads (as the paper's "All" column); with ``train.unfreeze_ts`` they
    are trained, and ``trainable`` counts them too (paper Table 4 (c))."""
    rows = []
    for path in paths:
        cfg = load_config([path])
        model = build_model(cfg.model)
        counts = count_parameters(model)
        layouts = [s for lay in generalist_layouts(cfg.model).values() for s in lay] \
            if cfg.model.method == "egot2-g" else model_layout(cfg.model)
        ts = frozen_ts_params(list(dict.fromkeys(s.task for s in layouts)))
        primary = None if cfg.model.method == "egot2-g" else cfg.model.primary
        trainable = counts.trainable + (ts if cfg.train.unfreeze_ts else 0)
        rows.append({"config": path, "method": cfg.model.method, "primary": primary,
                     "trainable": trainable, "total": counts.total + ts})
    return rows


def ts_params(size: str) -> list[dict[str, object]]:
    """``[{"task", "size", "trainable", "total"}]`` for every TS model at ``size``."""
    import torch

    from egot2.backbones import build_ts_model, ts_tasks

    rows = []
    for task in ts_tasks():
        with torch.device("meta"):  # counted without allocating the weights
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
