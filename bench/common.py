"""Shared pieces of the benchmarks: interleaved timing, the machine description, result records.

Benchmarks run on shared machines, so they never judge an absolute time: every comparison times both
sides in one process, alternating them repetition by repetition, and reports the ratio of the medians.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from egot2.translator.layout import InputStream

FRAMES = 30  # tokens of a per-frame stream (LAM/TTM/ASD face tracks): one second at 30 fps
RECORD_KEYS = ("name", "compared", "ratio", "goal", "met", "medians", "machine")
_GOAL = re.compile(r"^\s*(>=|<=|>|<)\s*([0-9.eE+-]+)\s*x?\s*$")


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else what :mod:`platform` says)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU model, cores, torch version, its thread count, and the
    1/5/15-minute load average when asked (other jobs on a shared machine)."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_avg": load,
    }


def interleaved(
    fns: Mapping[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time every function of ``fns`` ``repeats`` times, alternating them, after ``warmup`` untimed rounds.

    The order rotates each round so no function always runs right after the same other one.

    Args:
        fns: ``{label: zero-argument callable}``; each call is one timed unit of work.
        repeats: timed rounds (each function runs once per round).
        warmup: untimed rounds first (allocator, caches, lazy initialisation).

    Returns:
        ``{label: [seconds of each timed call]}``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    labels = list(fns)
    for _ in range(warmup):
        for label in labels:
            fns[label]()
    times: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(repeats):
        shift = r % len(labels)
        for label in labels[shift:] + labels[:shift]:
            start = time.perf_counter()
            fns[label]()
            times[label].append(time.perf_counter() - start)
    return times


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with torch using ``n`` threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def thread_counts() -> list[int]:
    """The thread counts a benchmark compares at: torch's default (the machine's cores), then 1.

    One thread is far less disturbed by other jobs on a shared machine: a model step is thousands of
    short parallel regions that each wait for the slowest thread, a large matmul one long region.
    """
    return list(dict.fromkeys((torch.get_num_threads(), 1)))


def medians(times: Mapping[str, list[float]]) -> dict[str, float]:
    """The median of each label's timings."""
    return {label: statistics.median(values) for label, values in times.items()}


def random_streams(layout: Sequence[InputStream], batch: int, frames: int, seed: int = 0) -> dict[str, Tensor]:
    """Random ``{"task.stream": (B, T_k, D_k)}`` of ``layout``; per-frame streams get ``frames`` tokens."""
    g = torch.Generator().manual_seed(seed)
    return {s.key: torch.randn(batch, s.tokens or frames, s.dim, generator=g) for s in layout}


def goal_met(ratio: float | None, goal: str | None) -> bool | None:
    """Whether ``ratio`` meets ``goal`` (``">= 0.25"``, ``">= 3x"``, ``"< 1"``); None if either is missing."""
    if ratio is None or goal is None:
        return None
    m = _GOAL.match(goal)
    if m is None:
        raise ValueError(f"goal must look like '>= 0.25' or '>= 3x', got {goal!r}")
    op, bound = m.group(1), float(m.group(2))
    return {">=": ratio >= bound, ">": ratio > bound, "<=": ratio <= bound, "<": ratio < bound}[op]


def result(
    name: str,
    compared: str,
    ratio: float | None,
    medians: Mapping[str, float],
    goal: str | None = None,
    quick: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One result record: ``name, compared, ratio, goal, met, medians, machine`` plus ``extra`` keys.

    Args:
        name: the benchmark's name, unique within the suite.
        compared: what is compared against what, in words (the ratio's numerator first).
        ratio: numerator / denominator.
        medians: ``{label: seconds or rate}`` behind the ratio (the label says which, e.g. ``"... s"``).
        goal: e.g. ``">= 0.25"``; None when the comparison has no goal.
        quick: a smoke run at reduced sizes: ``met`` is left None (the goal is about the full sizes).
        extra: further keys (details a reader may want: FLOP counts, parameter counts ...).
    """
    return {
        "name": name,
        "compared": compared,
        "ratio": None if ratio is None else float(ratio),
        "goal": goal,
        "met": None if quick else goal_met(ratio, goal),
        "medians": {k: float(v) for k, v in medians.items()},
        "machine": machine(),
        "quick": quick,
        **extra,
    }


def normalise(record: Mapping[str, Any], default_name: str, host: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Fill the keys a benchmark left out (``goal`` None, ``met`` from the goal, ``machine``, ``medians``).

    Records from modules written against a smaller format (``name, compared, ratio, medians``) are
    accepted as they are; keys beyond :data:`RECORD_KEYS` are kept after them.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"a benchmark result must be a dict, got {type(record).__name__}")
    out: dict[str, Any] = {
        "name": record.get("name") or default_name,
        "compared": record.get("compared"),
        "ratio": None if record.get("ratio") is None else float(record["ratio"]),
        "goal": record.get("goal"),
    }
    try:
        met = record["met"] if "met" in record else goal_met(out["ratio"], out["goal"])
    except ValueError:
        met = None
    out["met"] = met
    out["medians"] = dict(record.get("medians") or {})
    out["machine"] = dict(record.get("machine") or host or machine())
    out.update({k: v for k, v in record.items() if k not in RECORD_KEYS})
    return out


def failed(name: str, error: BaseException | str, host: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The record of a benchmark that could not be imported or raised while running."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return {
        "name": name,
        "compared": None,
        "ratio": None,
        "goal": None,
        "met": None,
        "medians": {},
        "machine": dict(host or machine()),
        "error": text,
    }
