"""``egot2 train``: stage II, a translator or baseline trained from a feature cache."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "train"
HELP = ("Train EgoT2-s, EgoT2-g or a baseline (finetune, transfer, late-fusion) from a feature cache, or the "
        "primary's own TS model (ts) from its clips.")
METHODS = ["ts", "finetune", "transfer", "late-fusion", "egot2-s", "egot2-g"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=METHODS, help="what to train (default: the config's, else egot2-s); ts: the "
                   "primary's task-specific model on its clips (--data; as `egot2 train-ts --task`)")
    p.add_argument("--primary", help="primary task (EgoT2-s and baselines)")
    p.add_argument("--aux", nargs="*", help="auxiliary tasks (default: the paper rule)")
    p.add_argument("--cluster", choices=["human-object", "human-human"], help="EgoT2-g: answer this cluster")
    p.add_argument("--config", action="append", default=[], type=Path, help="YAML config delta (repeatable)")
    p.add_argument("--cache", type=Path, help="feature cache made by `egot2 extract` (EgoT2-g: a folder of "
                   "caches, one per task)")
    p.add_argument("--online", action="store_true", help="no cache: run the frozen TS models on every clip "
                   "(needs --data and --ts; for parity checks, and for train.unfreeze_ts=true, which trains them)")
    p.add_argument("--data", type=Path, help="data folder (with --online)")
    p.add_argument("--ts", type=Path, nargs="*", default=[], metavar="[TASK=]PATH",
                   help="TS runs (with --online); TASK_copyN=PATH loads a model of TASK as copy N (model.primary_copies)")
    p.add_argument("--size", choices=["tiny", "full"], default="tiny", help="--method ts: the TS model's size")
    p.add_argument("--init-from", type=Path, help="--method ts, LTA: the AR run whose SlowFast backbone initialises it")
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--resume", action="store_true", help="continue from RUN/checkpoints/last.ckpt")
    p.add_argument("--devices", default="1", help="devices for Lightning (DDP when > 1)")
    p.add_argument("--num-nodes", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. train.epochs=5")


def resolve(args: argparse.Namespace):  # noqa: ANN201 - returns Config
    """The run's config: defaults, --config files, then the flags, then KEY=VALUE overrides."""
    from egot2.config import load_config

    flags = []
    if args.method:
        flags.append(f"model.method={args.method}")
    if args.primary:
        flags.append(f"model.primary={args.primary}")
    if args.aux is not None:
        flags.append(f"model.aux=[{','.join(args.aux)}]")
    if args.cluster:
        flags.append(f"model.generalist.cluster={args.cluster}")
    return load_config(args.config, [*flags, *args.overrides])


def run_ts(args: argparse.Namespace) -> int:
    """``--method ts``: stage I for the primary task (what ``egot2 train-ts`` does)."""
    from egot2.config import load_config
    from egot2.errors import UserInputError
    from egot2.tasks import get_task
    from egot2.training.stage1 import train_ts

    if not args.primary or args.data is None:
        raise UserInputError("--method ts trains the primary's own TS model on its clips: give --primary and --data",
                             field="--method")
    if args.cache is not None or args.online or args.aux or args.ts or args.cluster:
        raise UserInputError("--method ts reads the clips of --data with the primary's model only: leave out "
                             "--cache, --online, --aux, --ts and --cluster", field="--method")
    get_task(args.primary)
    cfg = load_config(args.config, args.overrides)
    devices = int(args.devices) if str(args.devices).isdigit() else args.devices
    info = train_ts(args.primary, args.data, args.out, size=args.size, train=cfg.train, init_from=args.init_from,
                    resume=args.resume, devices=devices, num_nodes=args.num_nodes, progress=not args.quiet)
    print(json.dumps({"out": str(args.out), "val": info["val"]}, indent=2))
    return 0


def run(args: argparse.Namespace) -> int:
    from egot2.errors import UserInputError

    if args.method == "ts":
        return run_ts(args)
    if args.size != "tiny" or args.init_from is not None:
        raise UserInputError("--size and --init-from are for --method ts", field="--size")
    cfg = resolve(args)
    if args.online:
        if args.cache is not None or args.data is None or not args.ts:
            raise UserInputError("--online needs --data and --ts, and no --cache", field="--online")
        if cfg.model.precomputed:
            raise UserInputError("precomputed feature streams are read from a cache: give --cache (made with "
                                 "`egot2 extract --precomputed NAME=DIR`) instead of --online",
                                 field="model.precomputed")
    elif args.cache is None:
        raise UserInputError("give --cache CACHE (made by `egot2 extract`), or --online", field="--cache")
    if cfg.train.unfreeze_ts and cfg.model.method == "egot2-g":
        raise UserInputError("train.unfreeze_ts (TS models trained with the translator) is for EgoT2-s and the "
                             "baselines with --online, not EgoT2-g", field="train.unfreeze_ts")
    devices = int(args.devices) if str(args.devices).isdigit() else args.devices
    if cfg.model.method == "egot2-g":
        from egot2.training.joint import train_generalist

        info = train_generalist(cfg, args.cache, args.out, resume=args.resume, progress=not args.quiet,
                                devices=devices, num_nodes=args.num_nodes)
    else:
        from egot2.training.stage2 import train_stage2

        info = train_stage2(cfg, args.cache, args.out, online=(args.data, args.ts) if args.online else None,
                            resume=args.resume, devices=devices,
                            num_nodes=args.num_nodes, progress=not args.quiet)
    print(json.dumps({"out": str(args.out), "val": info["val"]}, indent=2))
    return 0
