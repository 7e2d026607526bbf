"""The study's job graph: dependencies, jobs side by side, one torch thread each, failures, reuse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from egot2.errors import UserInputError
from egot2.study.jobs import Job, run_jobs
from egot2.study.stages import Stages


def _quiet(root: Path) -> Stages:
    return Stages(root, log=lambda _: None)


def _wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} never appeared")
        time.sleep(0.02)


def test_dependencies_order_and_results(tmp_path: Path) -> None:
    log = tmp_path / "order.txt"

    def make(name: str, needs: tuple[str, ...]) -> Job:
        def fn(resume: bool) -> dict:
            done = log.read_text().split() if log.exists() else []
            assert all(d in done for d in needs), (name, done)  # every dependency finished before
            with log.open("a") as fh:
                fh.write(name + "\n")
            import torch

            return {"name": name, "threads": torch.get_num_threads(), "resume": resume}

        return Job(name, tmp_path / name, lambda: f"key-{name}", fn, deps=needs)

    jobs = [make("c", ("a", "b")), make("a", ()), make("b", ("a",)), make("d", ())]
    results = run_jobs(_quiet(tmp_path), jobs, workers=2)
    assert set(results) == {"a", "b", "c", "d"}
    assert all(r["threads"] == 1 and r["resume"] is False for r in results.values())
    order = log.read_text().split()
    assert order.index("a") < order.index("b") < order.index("c")


def test_two_workers_run_jobs_side_by_side(tmp_path: Path) -> None:
    """Each job waits for a file the other writes: they can only both finish if they run at once."""

    def meet(me: str, other: str) -> Job:
        def fn(resume: bool) -> dict:
            (tmp_path / me).write_text("here")
            _wait_for(tmp_path / other)
            return {}

        return Job(f"job-{me}", tmp_path / f"job-{me}", lambda: me, fn)

    results = run_jobs(_quiet(tmp_path), [meet("x", "y"), meet("y", "x")], workers=2)
    assert set(results) == {"job-x", "job-y"}


def test_a_failing_job_raises_its_error_and_stops_the_others(tmp_path: Path) -> None:
    def bad(resume: bool) -> dict:
        _wait_for(tmp_path / "slow.started")
        raise UserInputError("no such clip", file="clips.json", field="video_uid")

    def slow(resume: bool) -> dict:
        (tmp_path / "slow.started").write_text("")
        time.sleep(60)
        (tmp_path / "slow.finished").write_text("")
        return {}

    jobs = [Job("bad", tmp_path / "bad", lambda: "1", bad), Job("slow", tmp_path / "slow", lambda: "2", slow),
            Job("after", tmp_path / "after", lambda: "3", lambda r: {}, deps=("bad",))]
    start = time.monotonic()
    with pytest.raises(UserInputError) as info:
        run_jobs(_quiet(tmp_path), jobs, workers=2)
    assert info.value.file == "clips.json" and info.value.field == "video_uid"  # rebuilt whole
    assert time.monotonic() - start < 50  # the slow job was stopped, not waited for
    assert not (tmp_path / "slow.finished").exists() and not (tmp_path / "after").exists()
    marks = tmp_path / ".stages"
    assert not (marks / "bad.stage.json").exists() and (marks / "slow.stage.started.json").exists()


def test_finished_jobs_are_reused_without_running(tmp_path: Path) -> None:
    counter = tmp_path / "runs.txt"

    def fn(resume: bool) -> dict:
        with counter.open("a") as fh:
            fh.write("x")
        return {"value": 7}

    jobs = [Job("a", tmp_path / "a", lambda: "k", fn), Job("b", tmp_path / "b", lambda: "k", fn, deps=("a",))]
    first = run_jobs(_quiet(tmp_path), jobs, workers=2)
    stages = _quiet(tmp_path)
    again = run_jobs(stages, jobs, workers=2)
    assert again == first == {"a": {"value": 7}, "b": {"value": 7}}
    assert counter.read_text() == "xx" and sorted(stages.reused) == ["a", "b"]
    record = json.loads((tmp_path / ".stages" / "a.stage.json").read_text())
    assert record["key"] == "k" and record["result"] == {"value": 7}


def test_unknown_dependency_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown jobs"):
        run_jobs(_quiet(tmp_path), [Job("a", tmp_path / "a", lambda: "k", lambda r: {}, deps=("nope",))])


def test_chain_costs_and_the_longest_chain_starts_first(tmp_path: Path) -> None:
    """b (cost 1) leads to c (cost 10); a (cost 5) leads nowhere: with one worker b runs before a."""
    from egot2.study.jobs import chain_costs

    order = tmp_path / "order.txt"

    def make(name: str, cost: float, deps: tuple[str, ...] = ()) -> Job:
        def fn(resume: bool) -> dict:
            with order.open("a") as fh:
                fh.write(name + "\n")
            return {}

        return Job(name, tmp_path / name, lambda: name, fn, deps=deps, cost=cost)

    jobs = [make("a", 5.0), make("b", 1.0), make("c", 10.0, ("b",)), make("d", 2.0, ("b", "a"))]
    assert chain_costs(jobs) == {"a": 7.0, "b": 11.0, "c": 10.0, "d": 2.0}
    run_jobs(_quiet(tmp_path), jobs, workers=1)
    assert order.read_text().split() == ["b", "c", "a", "d"]
