"""The task registry: a plain dict, filled explicitly, that rejects duplicates and lists valid names."""

from __future__ import annotations

from egot2.errors import UserInputError
from egot2.tasks.spec import TaskSpec

_TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec, *, replace: bool = False) -> TaskSpec:
    """Add ``spec`` to the registry. A second task of the same name is an error unless ``replace``."""
    if spec.name in _TASKS and not replace:
        raise UserInputError(f"task {spec.name!r} is already registered", field="name")
    _TASKS[spec.name] = spec
    return spec


def unregister_task(name: str) -> None:
    """Remove a task (for tests and plugins that register temporary tasks)."""
    _TASKS.pop(name, None)


def get_task(name: str) -> TaskSpec:
    """Look a task up by name; a miss lists the valid names."""
    try:
        return _TASKS[name]
    except KeyError:
        raise UserInputError(f"unknown task {name!r}; valid tasks: {', '.join(task_names())}", field="task") from None


def task_names() -> list[str]:
    """Names of every registered task, in registration order."""
    return list(_TASKS)


def tasks_in_cluster(cluster: str) -> list[TaskSpec]:
    """Every registered task of ``cluster`` (ablation copies excluded), in registration order."""
    return [t for t in _TASKS.values() if t.cluster == cluster and t.copy_of is None]
