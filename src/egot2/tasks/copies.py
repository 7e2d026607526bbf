"""Copies of a task's TS model (paper Table 4 ablation): the auxiliary models are replaced by extra
copies of the primary's TS model, trained with other seeds. A copy is a task of its own name
(``ttm_copy1``) with the primary's spec, so layouts, caches and translators treat it like any other."""

from __future__ import annotations

import dataclasses

from egot2.tasks.registry import _TASKS, get_task, register_task
from egot2.tasks.spec import TaskSpec

COPY = "_copy"


def copy_name(task: str, index: int) -> str:
    """The name of copy ``index`` (1-based) of ``task``."""
    return f"{task}{COPY}{index}"


def parse_copy(name: str) -> tuple[str, int] | None:
    """``ttm_copy2`` -> ``("ttm", 2)``; None for a name that is not a copy."""
    task, sep, index = name.rpartition(COPY)
    return (task, int(index)) if sep and task and index.isdigit() and int(index) > 0 else None


def source_task(name: str) -> str:
    """``ttm_copy2`` -> ``ttm``; other names unchanged."""
    return name.split(COPY)[0] if COPY in name else name


def ensure_copies(task: str, count: int) -> list[str]:
    """Register (once) and return the names of ``count`` copies of ``task``."""
    spec = get_task(task)
    names = []
    for i in range(1, count + 1):
        name = copy_name(task, i)
        if name not in _TASKS:
            copy: TaskSpec = dataclasses.replace(spec, name=name, can_be_primary=False, copy_of=task,
                                                 description=f"copy {i} of {task}'s TS model (other seed)")
            register_task(copy)
        names.append(name)
    return names
