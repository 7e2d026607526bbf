"""``egot2 convert-checkpoint TASK SRC --out DST.safetensors``: a released TS checkpoint to our format."""

from __future__ import annotations

import argparse

NAME = "convert-checkpoint"
HELP = "convert a released task-specific checkpoint to egot2's safetensors format"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the command."""
    parser.add_argument("task", help="task of the checkpoint (pnr, oscc, ar, lta, lam, ttm, asd)")
    parser.add_argument("src", help="the released file (.ckpt, .pth, .safetensors)")
    parser.add_argument("--out", required=True, help="the .safetensors file to write")
    parser.add_argument(
        "--mapping", default=None, help="key-mapping YAML (default: configs/checkpoints/<task>.yaml)"
    )
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="refuse files that pickle more than tensors instead of reading them with the restricted unpickler",
    )


def run(args: argparse.Namespace) -> int:
    """Convert, then print a one-paragraph summary."""
    from egot2.checkpoints import convert_checkpoint

    report = convert_checkpoint(
        args.task, args.src, args.out, mapping=args.mapping, allow_pickle=not args.weights_only
    )
    print(f"wrote {report.dst}: {report.tensors} tensors for task {report.task} (mapping {report.mapping})")
    if report.ignored:
        print(f"ignored {len(report.ignored)} key(s) of the file: {', '.join(report.ignored)}")
    if report.filled:
        print(f"filled {len(report.filled)} missing BatchNorm counter(s) with 0")
    return 0
