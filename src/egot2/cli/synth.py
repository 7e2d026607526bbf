"""``egot2 synth``: generate the synthetic egocentric world in Ego4D's layout and schemas."""

from __future__ import annotations

import argparse
import sys

NAME = "synth"
HELP = "Generate the synthetic egocentric world (the default dataset) in Ego4D's layout and schemas."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created; a previous world there is replaced)")
    p.add_argument("--world", help="YAML of config deltas (or a world.yaml written by a previous run)")
    p.add_argument("--seed", type=int, help="the world's seed (default: the config's, 0)")
    p.add_argument("--size", choices=["tiny", "quick", "default"], default="default",
                   help="tiny: a few clips (tests); quick: tens of clips per task split (<= 30 s); default: a few hundred "
                   "training samples per task (<= 2 min)")
    p.add_argument("--workers", type=int, help="processes that render and encode videos (default: all CPUs)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. ttm.label_noise=0.2")


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from egot2.synth import generate_world, load_world_config

    cfg = load_world_config(size=args.size, world=args.world, seed=args.seed, overrides=args.overrides)
    columns = (TextColumn("synth {task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
               TimeElapsedColumn())
    tty = sys.stderr.isatty()
    quarters: set[int] = set()
    with Progress(*columns, transient=True, disable=not tty) as bar:
        task = bar.add_task(cfg.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            q = 4 * done // max(total, 1)
            if not tty and q not in quarters:
                quarters.add(q)
                print(f"synth: {done}/{total} frames", file=sys.stderr, flush=True)

        summary = generate_world(cfg, args.out, workers=args.workers, progress=progress)
    print(f"wrote {summary.videos} videos ({summary.frames} frames) and {len(summary.files)} annotation files "
          f"to {summary.out} in {summary.seconds:.1f} s")
    return 0
