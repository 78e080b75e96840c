"""How a task looks in the API: the contract's task template filled with the task's values.

The body of create and status answers and of callbacks is the read operation's ``task``
template; a completed task adds its model's ``completed`` template and a failed one the
``failed`` template (see :mod:`sora_mock.contract.task_api`). Links to a task's files are
signed: ``?expires=<unix time>&signature=<hex HMAC-SHA256>`` over the task id, the file
name and the expiry, with the store's link secret (:func:`link_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sora_mock.contract import ServedFile, TaskAPI, TaskModel
from sora_mock.engine.identities import drawn_values
from sora_mock.engine.lifecycle import TERMINAL, Observation
from sora_mock.engine.store.task import Task

MOCK_PREFIX = "/__mock/"


def file_url(task: Task, file: ServedFile, expires: float, secret: bytes) -> str:
    """The signed link to one of the task's files, served by the mock until ``expires``."""
    stamp = int(expires)
    signature = link_signature(secret, task.id, file.name, stamp)
    return (
        f"{task.base_url}{MOCK_PREFIX}files/{task.id}/{file.name}"
        f"?expires={stamp}&signature={signature}"
    )


def seeded_link_secret(seed: int) -> bytes:
    """A link secret drawn from ``seed``: as predictable as the task ids the seed draws."""
    return hashlib.sha256(f"sora-mock file links {seed}".encode()).digest()


def link_signature(secret: bytes, task_id: str, name: str, expires: int) -> str:
    """The signature of the link to file ``name`` of task ``task_id`` until ``expires``:
    HMAC-SHA256 under ``secret`` over the three, one a line, as lower-case hex."""
    message = f"{task_id}\n{name}\n{expires}".encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


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

    def render(
        self, task: Task, seen: Observation, now: float, link_secret: bytes
    ) -> dict[str, Any]:
        """The task as the API shows it in state ``seen`` at mock time ``now``, its file
        links signed with ``link_secret``."""
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
            self._add_files(task, model, values, now, link_secret)
            body.update(model.completed.render(values))
        elif seen.status == "failed" and self.tasks.failed is not None:
            body.update(self.tasks.failed.render(values))
        return body

    @staticmethod
    def _add_files(
        task: Task, model: TaskModel, values: dict[str, Any], now: float, secret: bytes
    ) -> None:
        ended = end_time(task, now)
        for name, file in model.files.items():
            values[name] = file_url(task, file, ended + file.ttl, secret)
