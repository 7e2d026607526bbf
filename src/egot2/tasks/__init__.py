"""Tasks: the :class:`TaskSpec` of each task, the registry, heads and losses.

The seven Ego4D tasks are registered when this package is imported. User code adds a task with
:func:`register_task` and never touches the core.
"""

from egot2.tasks.ego4d import EGO4D_TASKS
from egot2.tasks.registry import get_task, register_task, task_names, tasks_in_cluster, unregister_task
from egot2.tasks.spec import LossSpec, OutputKind, OutputSpec, StreamSpec, TaskSpec

for _spec in EGO4D_TASKS:
    register_task(_spec, replace=True)

__all__ = [
    "EGO4D_TASKS",
    "LossSpec",
    "OutputKind",
    "OutputSpec",
    "StreamSpec",
    "TaskSpec",
    "get_task",
    "register_task",
    "task_names",
    "tasks_in_cluster",
    "unregister_task",
]
