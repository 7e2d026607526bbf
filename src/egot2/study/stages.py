"""Content-addressed, resumable stages: a stage's folder records the hash of everything it was made
from; a re-run with the same inputs reuses it, and an interrupted stage continues where it stopped."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from egot2.utils.atomic import write_json

T = TypeVar("T")
DONE = "stage.json"
STARTED = "stage.started.json"


def content_key(*parts: Any) -> str:
    """A stable hash of JSON-able inputs (and of the files' hashes they name)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Stages:
    """Runs named stages under one output folder and times them (markers in ``root/.stages/``).

    Args:
        root: the study's output folder.
        log: called with one line per stage event.
    """

    def __init__(self, root: Path, log: Callable[[str], None] = print) -> None:
        self.root, self.log = root, log
        self.timings: dict[str, float] = {}
        self.reused: list[str] = []

    def _marks(self, name: str) -> tuple[Path, Path]:
        marks = self.root / ".stages"
        marks.mkdir(parents=True, exist_ok=True)
        slug = name.replace("/", "__")
        return marks / f"{slug}.{DONE}", marks / f"{slug}.{STARTED}"

    def recorded(self, name: str, key: str) -> dict[str, Any] | None:
        """The recorded result of stage ``name`` if it finished with inputs ``key``, else None."""
        done, _ = self._marks(name)
        if done.exists():
            record = json.loads(done.read_text())
            if record.get("key") == key:
                return record.get("result", {})
        return None

    def run(self, name: str, folder: Path, key: str, fn: Callable[[bool], T]) -> T | dict[str, Any]:
        """Run ``fn(resume)`` to fill ``folder`` unless it already holds the result for ``key``.

        ``resume`` is True when an earlier run with the same key was interrupted; a folder made from
        other inputs is cleared first. Returns ``fn``'s result, or the recorded one when reused.
        """
        recorded = self.recorded(name, key)
        if recorded is not None:
            self.reused.append(name)
            self.timings[name] = 0.0
            self.log(f"[reuse] {name}")
            return recorded
        done, started = self._marks(name)
        resume = started.exists() and json.loads(started.read_text()).get("key") == key
        if folder.exists() and not resume:
            shutil.rmtree(folder)
        done.unlink(missing_ok=True)
        write_json(started, {"key": key})
        self.log(f"[{'resume' if resume else 'run'}] {name}")
        t0 = time.perf_counter()
        result = fn(resume)
        self.timings[name] = time.perf_counter() - t0
        write_json(done, {"key": key, "result": result if isinstance(result, dict) else {},
                          "seconds": self.timings[name]})
        started.unlink(missing_ok=True)
        return result
