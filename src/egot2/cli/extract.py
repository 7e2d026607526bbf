"""``egot2 extract``: the feature cache of one primary task."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "extract"
HELP = "Run the frozen TS models over every clip of the primary task's dataset into a feature cache."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--primary", required=True)
    p.add_argument("--data", type=Path, required=True, help="data folder (Ego4D layout, or `egot2 synth` output)")
    p.add_argument("--ts", nargs="+", required=True, metavar="[TASK=]PATH",
                   help="TS run folders or converted checkpoints; TASK_copyN=PATH loads a model of TASK as copy N "
                   "(model.primary_copies)")
    p.add_argument("--out", type=Path, required=True, help="cache folder (an interrupted extraction resumes)")
    p.add_argument("--aux", nargs="*", help="auxiliary tasks (default: the paper rule over the given TS models)")
    p.add_argument("--config", action="append", default=[], type=Path,
                   help="take the auxiliary tasks and windows from the run config that will train on this cache "
                   "(e.g. configs/cross_cluster.yaml; repeatable deltas); not with --aux or --windows")
    p.add_argument("--windows", nargs="*", default=[], metavar="TASK=N", help="sliding windows spread over the clip, "
                   "e.g. ar=3")
    p.add_argument("--stride", nargs="*", default=[], metavar="TASK=SECONDS",
                   help="instead, slide a model with this stride, e.g. ar=2.0 (model.window_stride)")
    p.add_argument("--float16", action="store_true", help="store tokens as float16")
    p.add_argument("--splits", nargs="*", default=["train", "val", "test"])
    p.add_argument("--precomputed", nargs="*", default=[], metavar="NAME=DIR",
                   help="Ego4D precomputed features ({video_uid}.pt per video) as one more stream NAME.features")
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from egot2.errors import UserInputError
    from egot2.features.extract import extract
    from egot2.features.precomputed import parse_sources

    aux, windows, strides = args.aux, {}, {}
    if args.config:
        from egot2.config import load_config
        from egot2.features.extract import config_aux

        if args.aux is not None or args.windows or args.stride:
            raise UserInputError("--config sets the auxiliary tasks and windows: leave out --aux, --windows and "
                                 "--stride", field="--config")
        aux, windows, strides = config_aux(load_config(args.config), args.primary)
    for item in args.windows:
        task, _, n = item.partition("=")
        if not n.isdigit():
            raise UserInputError(f"expected TASK=N, got {item!r}", field="--windows")
        windows[task] = int(n)
    for item in args.stride:
        task, _, sec = item.partition("=")
        try:
            strides[task] = float(sec)
        except ValueError:
            raise UserInputError(f"expected TASK=SECONDS, got {item!r}", field="--stride") from None
        if not strides[task] > 0:
            raise UserInputError(f"a stride must be > 0 s, got {item!r}", field="--stride")
    written = extract(args.primary, args.data, args.ts, args.out, aux=aux, windows=windows, strides=strides,
                      float16=args.float16, splits=args.splits, skip_bad=args.skip_bad, progress=not args.quiet,
                      precomputed=parse_sources(args.precomputed))
    print(json.dumps({"cache": str(args.out), "written": written}))
    return 0
