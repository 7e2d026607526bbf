"""The ``egot2`` command line. It only parses arguments and calls library functions.

Each sub-command lives in its own module with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; :data:`COMMANDS` lists them explicitly. A :class:`~egot2.errors.UserInputError`
raised anywhere becomes a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from egot2 import __version__
from egot2.cli import (
    convert_checkpoint,
    demo,
    eval_run,
    evaluate,
    extract,
    params,
    predict,
    synth,
    train,
    train_ts,
)
from egot2.errors import EgoT2Error

COMMANDS: list[ModuleType] = [
    demo, synth, train_ts, extract, train, eval_run, predict, evaluate, params, convert_checkpoint,
]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors reported as exit code 2 and a clear message (argparse's default too)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per command."""
    parser = _Parser(prog="egot2", description="EgoTask Translation for egocentric video.")
    parser.add_argument("--version", action="version", version=f"egot2 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``egot2`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except EgoT2Error as exc:
        print(f"egot2 {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"egot2 {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
