"""``egot2 train-ts``: stage I, one task-specific model on its own task's clips."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "train-ts"
HELP = "Train the task-specific (TS) model of one task (stage I)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from egot2.tasks import task_names

    p.add_argument("--task", required=True, choices=task_names()[:7])
    p.add_argument("--data", type=Path, required=True, help="data folder (Ego4D layout, or `egot2 synth` output)")
    p.add_argument("--size", choices=["tiny", "full"], default="tiny")
    p.add_argument("--out", type=Path, help="run folder (default: runs/ts_<task>)")
    p.add_argument("--config", action="append", default=[], type=Path, help="YAML with a `train:` section")
    p.add_argument("--init-from", type=Path, help="LTA: the AR run whose SlowFast backbone initialises it")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.ckpt")
    p.add_argument("--skip-bad", action="store_true", help="skip (and report) unreadable clips")
    p.add_argument("--devices", default="1", help="devices for Lightning (DDP when > 1)")
    p.add_argument("--num-nodes", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. train.epochs=5")


def run(args: argparse.Namespace) -> int:
    from egot2.config import load_config
    from egot2.training.stage1 import train_ts

    cfg = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / f"ts_{args.task}"
    devices = int(args.devices) if str(args.devices).isdigit() else args.devices
    info = train_ts(args.task, args.data, out, size=args.size, train=cfg.train, init_from=args.init_from,
                    resume=args.resume, devices=devices, num_nodes=args.num_nodes, progress=not args.quiet,
                    skip_bad=args.skip_bad)
    print(json.dumps({"out": str(out), "val": info["val"], "skipped": len(info["skipped"])}, indent=2))
    return 0
