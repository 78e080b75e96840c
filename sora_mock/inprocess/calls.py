"""What a mock answered: each call (plain request, response, journal entry) and task state.

:class:`Call` and :class:`Calls` are what :attr:`MockAPI.calls
<sora_mock.inprocess.handle.MockAPI.calls>` returns; :class:`TaskState` is one of its ``tasks``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sora_mock.contract import Request, Response
from sora_mock.engine import CREATE_OPERATION as CREATE
from sora_mock.engine import GET_TASK_OPERATION as GET_TASK
from sora_mock.engine import JournalEntry


@dataclass(frozen=True)
class Call:
    """One request the mock answered: the plain request and response, and its journal entry."""

    request: Request
    response: Response
    entry: JournalEntry | None
    time: float

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self.request.method

    @property
    def path(self) -> str:
        """The path, without the query string."""
        return self.request.path

    @property
    def status(self) -> int:
        """The response's HTTP status."""
        return self.response.status

    @property
    def operation(self) -> str | None:
        """The contract's ``operationId`` that answered, or None outside the contract."""
        return self.entry.operation if self.entry else None

    @property
    def scenario(self) -> str | None:
        """The scenario the engine applied, as its journal says."""
        return self.entry.scenario if self.entry else None

    @property
    def task_id(self) -> str | None:
        """The task this call created or read: from the journal, else from the path."""
        if self.entry and self.entry.task_id:
            return self.entry.task_id
        if self.operation == GET_TASK:
            return self.path.rsplit("/", 1)[-1]
        return None

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        return self._parsed

    @functools.cached_property
    def _parsed(self) -> Any:
        try:
            return json.loads(self.response.body)
        except ValueError:
            return None

    @property
    def task_status(self) -> str | None:
        """The task's ``status`` in a successful create or poll answer."""
        body = self.json() if self.status == 200 and self.operation in (CREATE, GET_TASK) else None
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None

    @property
    def failure_code(self) -> str | None:
        """The task failure code of a failed task's answer."""
        if self.task_status != "failed":
            return None
        error = self.json().get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None

    def describe(self, origin: float = 0.0) -> str:
        """One line: time since ``origin``, request, status and task state."""
        state = f" {self.task_status}" if self.task_status else ""
        return f"t=+{self.time - origin:g}s {self.method} {self.path} -> {self.status}{state}"


class Calls(Sequence[Call]):
    """The calls a mock answered, oldest first, with a few filters."""

    def __init__(self, calls: Sequence[Call]) -> None:
        self._calls = list(calls)

    @overload
    def __getitem__(self, index: int) -> Call: ...
    @overload
    def __getitem__(self, index: slice) -> Calls: ...
    def __getitem__(self, index: int | slice) -> Call | Calls:
        if isinstance(index, slice):
            return Calls(self._calls[index])
        return self._calls[index]

    def __len__(self) -> int:
        return len(self._calls)

    def __repr__(self) -> str:
        origin = self._calls[0].time if self._calls else 0.0
        return f"Calls({[c.describe(origin) for c in self._calls]!r})"

    def filter(
        self,
        *,
        operation: str | None = None,
        task_id: str | None = None,
        status: int | None = None,
    ) -> Calls:
        """The calls matching every criterion given."""
        return Calls(
            [
                c
                for c in self._calls
                if (operation is None or c.operation == operation)
                and (task_id is None or c.task_id == task_id)
                and (status is None or c.status == status)
            ]
        )

    @property
    def creates(self) -> Calls:
        """Calls to create a task (``POST /v1/videos/generations``)."""
        return self.filter(operation=CREATE)

    @property
    def polls(self) -> Calls:
        """Calls to read a task (``GET /v1/tasks/{task_id}``)."""
        return self.filter(operation=GET_TASK)

    @property
    def last(self) -> Call:
        """The newest call; IndexError when there is none."""
        if not self._calls:
            raise IndexError("no calls yet")
        return self._calls[-1]


@dataclass(frozen=True)
class TaskState:
    """A task as the mock holds it right now, and the body a poll would return."""

    id: str
    status: str
    progress: int
    scenario: str | None
    created_at: float
    #: When it ended, or ends on the clock alone (a lower bound for a task that also waits
    #: for status reads; ``inf`` for one that never finishes).
    ends_at: float
    polls: int
    body: Mapping[str, Any]
