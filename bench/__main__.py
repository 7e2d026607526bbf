"""The benchmark runner: ``python -m bench [NAMES...] [--quick] [--output PATH]`` (``make bench``).

Every module ``bench/<name>.py`` (but ``__init__``, ``__main__`` and ``common``) that defines
``run(quick: bool = False) -> list[dict]`` is a benchmark. The runner runs the named ones (default: all),
in name order, prints a table and writes ``bench/results.json`` atomically: one record per comparison,
``{name, compared, ratio, goal, met, medians, machine}`` plus ``module`` and whatever extra keys the
benchmark adds. Records of benchmarks not run this time are kept from the previous file. A module that
fails to import or raises becomes a record with an ``error`` and the runner goes on; the exit status is
1 if any did, else 0 (an unmet goal is reported, not an error: timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import failed, machine, normalise
from egot2.utils.atomic import write_json

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = frozenset({"__init__", "__main__", "common"})
DEFAULT_OUTPUT = HERE / "results.json"


def discover(folder: Path = HERE) -> list[str]:
    """Names of the candidate benchmark modules in ``folder``, sorted."""
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def _accepts_quick(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "quick" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def run_module(name: str, module: ModuleType | Any, quick: bool = False,
               host: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one benchmark module's ``run`` and return its normalised records (a failed record if it raises).

    ``run`` is called with ``quick`` when it accepts it, else without arguments. Records missing
    ``goal``, ``met`` or ``machine`` get defaults (:func:`bench.common.normalise`); each gets ``module``.
    """
    host = host or machine()
    try:
        fn = module.run
        raw = fn(quick=quick) if _accepts_quick(fn) else fn()
        if isinstance(raw, Mapping):
            raw = [raw]
        if not isinstance(raw, (list, tuple)) or not raw:
            raise TypeError(f"run() returned {type(raw).__name__} {raw!r:.80}, expected a non-empty list of dicts")
        records = [normalise(r, name, host) for r in raw]
    except Exception as exc:  # a broken benchmark must not stop the others
        records = [failed(name, exc, host)]
    return [{**r, "module": name} for r in records]


def run_benchmarks(names: Sequence[str], quick: bool = False, log: Callable[[str], None] | None = None
                   ) -> list[dict[str, Any]]:
    """Import and run each named module of ``bench``; modules without a ``run`` function are skipped."""
    host = machine()
    out: list[dict[str, Any]] = []
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except Exception as exc:
            out.append({**failed(name, exc, host), "module": name})
            continue
        if not callable(getattr(module, "run", None)):
            continue
        if log:
            log(f"running {name}{' (quick)' if quick else ''} ...")
        start = time.perf_counter()
        out.extend(run_module(name, module, quick, host))
        if log:
            log(f"  {name} took {time.perf_counter() - start:.0f} s")
    return out


def merge(previous: Sequence[Mapping[str, Any]], new: Sequence[dict[str, Any]], ran: Sequence[str]
          ) -> list[dict[str, Any]]:
    """``new`` records, plus the ``previous`` ones of modules not in ``ran``; sorted by module, stable."""
    kept = [dict(r) for r in previous if isinstance(r, Mapping) and r.get("module") not in set(ran)]
    return sorted([*kept, *new], key=lambda r: str(r.get("module", "")))


def read_results(path: Path) -> list[dict[str, Any]]:
    """The records of a previous ``results.json``; [] when there is none or it is not a list."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value / 1e6:.2f}M"
    return str(value)


def table(records: Sequence[Mapping[str, Any]]) -> Table:
    """A rich table: benchmark, ratio, goal, met, and the medians (or the error)."""
    t = Table(title="egot2 benchmarks (ratios of medians measured side by side)")
    for col in ("benchmark", "ratio", "goal", "met", "medians / details"):
        t.add_column(col, overflow="fold")
    for r in records:
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}.get(r.get("met"), str(r.get("met")))
        if r.get("error"):
            detail = f"[red]{r['error']}[/]"
        else:
            values = r.get("medians") or r.get("params") or {}
            detail = ", ".join(f"{k}: {_fmt(v)}" for k, v in values.items())
        ratio = "-" if r.get("ratio") is None else _fmt(r["ratio"])
        t.add_row(str(r.get("name")), ratio, str(r.get("goal") or "-"), met, detail)
    return t


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the benchmarks, print the table, write the results. Returns the exit status."""
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all: {available})")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions (a smoke run)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (default %(default)s)")
    args = parser.parse_args(argv)
    names = [n.replace("-", "_") for n in args.names] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; valid: {', '.join(available)}", file=sys.stderr)
        return 2
    console = Console()
    new = run_benchmarks(names, args.quick, log=lambda m: console.print(m, style="dim", highlight=False))
    records = merge(read_results(args.output), new, names)
    write_json(args.output, records)
    console.print(table(new))
    console.print(f"results: {args.output}", highlight=False)
    errors = [r["name"] for r in new if r.get("error")]
    unmet = [r["name"] for r in new if r.get("met") is False]
    if unmet:
        console.print(f"[yellow]goal not met:[/] {', '.join(unmet)}")
    if errors:
        console.print(f"[red]failed:[/] {', '.join(errors)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
