"""How a task looks in the API: the contract's task template filled with the task's values.

The body of create and status answers and of callbacks is the read operation's ``task``
template; a completed task adds its model's ``completed`` template and a failed one the
``failed`` template (see :mod:`sora_mock.contract.task_api`).
"""

from __future__ import annotations

from typing import Any

from sora_mock.contract import ServedFile, TaskAPI, TaskModel
from sora_mock.engine.identities import drawn_values
from sora_mock.engine.lifecycle import TERMINAL, Observation
from sora_mock.engine.store.task import Task

MOCK_PREFIX = "/__mock/"


def file_url(task: Task, file: ServedFile, expires: float) -> str:
    """The link to one of the task's files, served by the mock until ``expires``."""
    return f"{task.base_url}{MOCK_PREFIX}files/{task.id}/{file.name}?expires={int(expires)}"


def end_time(task: Task, now: float) -> float:
    """When a task that is over at ``now`` ended."""
    return task.ended_at if task.ended_at is not None else task.natural_end(now)


class TaskRenderer:
    """Renders tasks as the contract's templates say."""

    def __init__(self, tasks: TaskAPI) -> None:
        self.tasks = tasks
        # Drawn values are worked out for a finished task, or for every one when the
        # shared task template shows one.
        drawn = {name for model in tasks.models.values() for name in model.generated}
        self._draws_early = bool(tasks.task.names & drawn)

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        """The task as the API shows it in state ``seen`` at mock time ``now``."""
        values = {
            **task.reported.values,
            "id": task.id,
            "created": task.created,
            "model": task.model,
            "status": seen.status,
            "progress": seen.progress,
            "can_cancel": seen.status not in TERMINAL,
        }
        model = self.tasks.models.get(task.model)
        if model is not None and model.generated and (seen.terminal or self._draws_early):
            drawn = drawn_values(model.generated, task.draw, task.created)
            values.update({k: v for k, v in drawn.items() if k not in task.reported.values})
        if seen.status == "failed":
            failure = task.plan.failure
            values.update(failure_code=failure.code, failure_message=failure.message)
        body: dict[str, Any] = self.tasks.task.render(values)
        if seen.status == "completed" and model is not None and model.completed is not None:
            self._add_files(task, model, values, now)
            body.update(model.completed.render(values))
        elif seen.status == "failed" and self.tasks.failed is not None:
            body.update(self.tasks.failed.render(values))
        return body

    @staticmethod
    def _add_files(task: Task, model: TaskModel, values: dict[str, Any], now: float) -> None:
        ended = end_time(task, now)
        for name, file in model.files.items():
            values[name] = file_url(task, file, ended + file.ttl)
