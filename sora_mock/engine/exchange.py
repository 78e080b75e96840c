"""One exchange: a request, the engine's response to it and the journal entry it wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sora_mock.contract import Request, Response
from sora_mock.engine.journal import CREATE_OPERATION, GET_TASK_OPERATION, JournalEntry


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the engine answered: the plain request and response, and its journal entry.

    What :meth:`Engine.exchange <sora_mock.engine.core.Engine.exchange>` returns; the
    in-process calls, the checker and the conformance harness read the same record.
    """

    request: Request
    response: Response
    entry: JournalEntry

    @property
    def time(self) -> float:
        """Mock time at which the engine answered."""
        return self.entry.time

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
        """``createCharacterGeneration``, ``getTaskDetail``, ``mock`` or None (no route)."""
        return self.entry.operation

    @property
    def scenario(self) -> str | None:
        """The scenario the engine applied, if any."""
        return self.entry.scenario

    @property
    def task_id(self) -> str | None:
        """The task this call created or read, if any."""
        return self.entry.task_id

    @property
    def violations(self) -> tuple[str, ...]:
        """What the request broke of the contract, as the journal says."""
        return self.entry.violations

    @property
    def is_create(self) -> bool:
        """True for a create call."""
        return self.entry.operation == CREATE_OPERATION

    @property
    def is_poll(self) -> bool:
        """True for a task status read."""
        return self.entry.operation == GET_TASK_OPERATION

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response.body)
        except ValueError:
            return None

    @property
    def task_status(self) -> str | None:
        """The task's ``status`` in a successful create or poll answer, else None."""
        body = self.json() if self.status == 200 and (self.is_create or self.is_poll) else None
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None

    @property
    def failure_code(self) -> str | None:
        """The failure code in a failed task's answer, else None."""
        if self.task_status != "failed":
            return None
        error = self.json().get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None

    def summary(self) -> str:
        """``POST /v1/videos/generations -> 200 pending`` and the like."""
        target = self.path + (f"?{self.request.query}" if self.request.query else "")
        return f"{self.method} {target} -> {self.status} {self._gist()}".rstrip()

    def describe(self, origin: float = 0.0) -> str:
        """One line: time since ``origin``, request, status and task state."""
        state = f" {self.task_status}" if self.task_status else ""
        return f"t=+{self.time - origin:g}s {self.method} {self.path} -> {self.status}{state}"

    def _gist(self) -> str:
        body = self.json()
        if not isinstance(body, dict):
            return ""
        if isinstance(body.get("error"), dict) and "status" not in body:
            return str(body["error"].get("code", ""))
        status = body.get("status")
        if status == "processing":
            return f"processing {body.get('progress')}%"
        if status == "failed" and isinstance(body.get("error"), dict):
            return f"failed {body['error'].get('code')}"
        return str(status or "")
