"""One exchange (a request, the response to it and the journal entry it wrote) and a recorder.

:class:`Exchange` is the one record of a request answered: the in-process calls, the
checker's rules and the conformance harness read it. :class:`Recorder` keeps exchanges in
the order they were answered, for the in-process handle, the conformance harness and the
checker alike.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sora_mock.contract import CREATE_ROLE, READ_ROLE, Request, Response
from sora_mock.engine.journal import JournalEntry


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request answered: the plain request and response, and the journal entry.

    What :meth:`Engine.exchange <sora_mock.engine.core.Engine.exchange>` returns, with its
    journal entry. ``entry`` is None when the answer came from a server whose journal is out
    of reach (anything reached over HTTP, as the checker does): what only the journal knows
    (``operation``, ``task_id``, ``scenario``, ``violations``) then reads None or empty, and
    ``time`` has no value.
    """

    request: Request
    response: Response
    entry: JournalEntry | None = None

    @property
    def time(self) -> float:
        """Mock time at which the engine answered, from the journal entry.

        Raises:
            LookupError: the exchange has no journal entry (it was seen over HTTP).
        """
        if self.entry is None:
            raise LookupError(f"{self.summary()}: no journal entry, so no mock time")
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
        """The contract's ``operationId``, ``mock``, or None (no route, or no journal
        entry)."""
        return self.entry.operation if self.entry is not None else None

    @property
    def scenario(self) -> str | None:
        """The scenario the engine applied, if any (None without a journal entry)."""
        return self.entry.scenario if self.entry is not None else None

    @property
    def task_id(self) -> str | None:
        """The task this call created or read, if any (None without a journal entry)."""
        return self.entry.task_id if self.entry is not None else None

    @property
    def violations(self) -> tuple[str, ...]:
        """What the request broke of the contract, as the journal says (empty without one)."""
        return self.entry.violations if self.entry is not None else ()

    @property
    def is_create(self) -> bool:
        """True for a create call (known from the journal entry)."""
        return self.entry is not None and self.entry.role == CREATE_ROLE

    @property
    def is_poll(self) -> bool:
        """True for a task status read (known from the journal entry)."""
        return self.entry is not None and self.entry.role == READ_ROLE

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response.body)
        except ValueError:
            return None

    @property
    def task_status(self) -> str | None:
        """The task's state in a create or poll answer (as the journal says), else None."""
        return self.entry.task_status if self.entry is not None else None

    @property
    def failure_code(self) -> str | None:
        """A failed task's failure code (as the journal says), else None."""
        code = self.entry.notes.get("failure_code") if self.entry is not None else None
        return code if isinstance(code, str) else None

    def summary(self) -> str:
        """``POST /v1/videos/generations -> 200 pending`` and the like."""
        target = self.path + (f"?{self.request.query}" if self.request.query else "")
        return f"{self.method} {target} -> {self.status} {self._gist()}".rstrip()

    def describe(self, origin: float = 0.0) -> str:
        """One line: time since ``origin`` (with a journal entry), request, status, task state."""
        state = f" {self.task_status}" if self.task_status else ""
        line = f"{self.method} {self.path} -> {self.status}{state}"
        return line if self.entry is None else f"t=+{self.time - origin:g}s {line}"

    def _gist(self) -> str:
        """The task state the journal noted, or the code of an error envelope."""
        status = self.task_status
        if status == "processing" and self.entry is not None:
            return f"processing {self.entry.task_progress}%"
        if status == "failed":
            return f"failed {self.failure_code}"
        if status is not None:
            return status
        body = self.json() if self.status >= 400 else None
        error = body.get("error") if isinstance(body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""


class Recorder(Sequence[Exchange]):
    """Exchanges in the order they were answered, safe to share between threads.

    ``on_record``, when set, is called with each exchange just recorded, in the recording
    thread and outside the recorder's lock. Reading (``len``, indexing, iterating,
    :meth:`snapshot`) sees a consistent list while other threads record.

    Example::

        recorder = Recorder(on_record=print)
        exchange = recorder.answer(engine.exchange, request)
        assert recorder[-1] is exchange
    """

    def __init__(self, on_record: Callable[[Exchange], object] | None = None) -> None:
        self.on_record = on_record
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def answer(self, respond: Callable[[Request], Exchange], request: Request) -> Exchange:
        """Answer ``request`` with ``respond`` and record the exchange, as one step.

        Answering under the recorder's lock makes the recorded order the order answered,
        whichever threads ask. What ``respond`` raises is raised; nothing is recorded then.
        """
        with self._lock:
            exchange = respond(request)
            self._exchanges.append(exchange)
        return self._told(exchange)

    def record(self, exchange: Exchange) -> Exchange:
        """Record an exchange answered elsewhere (e.g. by a server over HTTP)."""
        with self._lock:
            self._exchanges.append(exchange)
        return self._told(exchange)

    def _told(self, exchange: Exchange) -> Exchange:
        if self.on_record is not None:
            self.on_record(exchange)
        return exchange

    def snapshot(self) -> tuple[Exchange, ...]:
        """The exchanges recorded so far, oldest first."""
        with self._lock:
            return tuple(self._exchanges)

    def clear(self) -> None:
        """Forget every exchange recorded."""
        with self._lock:
            self._exchanges.clear()

    @overload
    def __getitem__(self, index: int) -> Exchange: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Exchange, ...]: ...
    def __getitem__(self, index: int | slice) -> Exchange | tuple[Exchange, ...]:
        with self._lock:
            if isinstance(index, slice):
                return tuple(self._exchanges[index])
            return self._exchanges[index]

    def __len__(self) -> int:
        return len(self._exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"Recorder({len(self)} exchanges)"
