"""The study's stages as a dependency graph, run several at a time, each in its own process.

Most stages of the study train or run small models whose time goes to Python and to many small tensor
operations, which a second torch thread hardly speeds up; two such stages side by side, one thread each,
use both cores of a small machine. Every job runs in a forked child process with **one** torch thread,
whatever the number of workers, so that its numbers do not depend on how many jobs ran beside it: a
study run with ``workers=1`` computes the same results as one with ``workers=4``.

A job's content key is computed when its dependencies are done (a stage-II run's key names the hash of
the feature cache it reads). Stage markers are those of :class:`~egot2.study.stages.Stages`, so reuse
and resuming work as for a stage run in line.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from egot2.errors import EgoT2Error
from egot2.study.stages import Stages


@dataclass
class Job:
    """One stage of the study.

    Args:
        name: the stage's name (``stage1/ar``, ``cache/ttm`` ...).
        folder: the folder it fills.
        key: its content key, computed once its dependencies are done.
        fn: ``fn(resume)`` makes the stage; returns a JSON-able dict.
        deps: names of the jobs it needs.
        cost: rough duration in seconds. Among the jobs that are ready, the one with the longest chain of
            costs to the end of the graph (itself and what waits on it) starts first.
    """

    name: str
    folder: Path
    key: Callable[[], str]
    fn: Callable[[bool], Any]
    deps: tuple[str, ...] = ()
    cost: float = 1.0


def default_workers() -> int:
    """Jobs side by side: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _child(stages: Stages, job: Job, key: str, conn: Connection) -> None:
    import logging
    import warnings

    import torch

    torch.set_num_threads(1)
    # Lightning's start-up lines (accelerators found, tips) would print once per stage; warnings still show.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*treespec, LeafSpec.*")
    try:
        result = stages.run(job.name, job.folder, key, job.fn)
        conn.send(("ok", result if isinstance(result, dict) else {}, stages.timings.get(job.name, 0.0),
                   job.name in stages.reused))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which raises it
        detail = traceback.format_exc()
        try:
            conn.send(("error", exc, detail))
        except Exception:  # an exception that cannot be pickled: its type and message can
            conn.send(("error", EgoT2Error(f"{type(exc).__name__}: {exc}"), detail))
    finally:
        conn.close()


def chain_costs(jobs: Sequence[Job]) -> dict[str, float]:
    """Per job, its cost plus the costliest chain of jobs that depend on it (the critical path from it
    to the end): starting the job with the longest chain first keeps the last jobs from running alone."""
    waiting = {j.name: [k for k in jobs if j.name in k.deps] for j in jobs}
    chain: dict[str, float] = {}

    def walk(job: Job) -> float:
        if job.name not in chain:
            chain[job.name] = job.cost + max((walk(k) for k in waiting[job.name]), default=0.0)
        return chain[job.name]

    for job in jobs:
        walk(job)
    return chain


def _check(jobs: Sequence[Job]) -> None:
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate job names: {sorted({n for n in names if names.count(n) > 1})}")
    missing = {d for j in jobs for d in j.deps if d not in names}
    if missing:
        raise ValueError(f"jobs depend on unknown jobs: {sorted(missing)}")


def run_jobs(stages: Stages, jobs: Sequence[Job], workers: int = 1,
             log: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Run every job once its dependencies are done, at most ``workers`` at a time, each in a child
    process with one torch thread; returns each job's result by name (timings and reuse go into
    ``stages``).

    A job that fails stops the others (they resume on the next run) and its exception is raised here.
    """
    _check(jobs)
    ctx = mp.get_context("fork")
    pending = list(jobs)
    results: dict[str, dict[str, Any]] = {}
    running: dict[Connection, tuple[Job, Any, float]] = {}
    total, workers = len(jobs), max(1, workers)
    chain = chain_costs(jobs)
    try:
        while pending or running:
            started = True
            while started:  # start every ready job a worker is free for; reuse finished ones in line
                started = False
                ready = sorted((j for j in pending if all(d in results for d in j.deps)), key=lambda j: -chain[j.name])
                for job in ready:
                    if len(running) >= workers:
                        break
                    pending.remove(job)
                    key = job.key()
                    if stages.recorded(job.name, key) is not None:  # no process to start
                        results[job.name] = stages.run(job.name, job.folder, key, job.fn)
                        started = True
                        continue
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_child, args=(stages, job, key, send), name=f"egot2 {job.name}")
                    proc.start()
                    send.close()
                    running[recv] = (job, proc, time.perf_counter())
            if not running:
                if pending:  # pragma: no cover - _check rules out unknown jobs; a cycle ends here
                    raise ValueError(f"jobs wait on each other: {[j.name for j in pending]}")
                break
            for conn in wait(list(running)):
                job, proc, _ = running.pop(conn)  # type: ignore[index]
                try:
                    message = conn.recv()
                except EOFError:
                    proc.join()
                    raise EgoT2Error(f"stage {job.name} died (exit code {proc.exitcode})") from None
                except Exception as exc:  # an exception the parent cannot rebuild
                    raise EgoT2Error(f"stage {job.name} failed; its error could not be read back: {exc}") from None
                finally:
                    conn.close()
                proc.join()
                if message[0] == "error":
                    exc = message[1]
                    if not isinstance(exc, KeyboardInterrupt):
                        log(f"[failed] {job.name}:\n{message[2]}")
                    raise exc
                _, result, seconds, reused = message
                results[job.name] = result
                stages.timings[job.name] = seconds
                if reused:
                    stages.reused.append(job.name)
                else:
                    log(f"[done {len(results)}/{total}] {job.name} ({seconds:.0f} s)")
    finally:
        for _, proc, _ in running.values():
            proc.terminate()
        for conn, (_, proc, _) in running.items():
            proc.join()
            conn.close()
    return results
