"""The request journal: what each request was, who sent it and what it got."""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sora_mock.engine.rows import Row, RowCodec

#: The most bytes of one body an entry keeps (the rest is cut; the entry says how long the
#: whole body was).
BODY_LIMIT = 4096
#: The most body bytes the whole journal keeps: past it, the oldest entries lose their
#: bodies (the entries stay).
BODY_BUDGET = 2 * 1024 * 1024


@functools.lru_cache(maxsize=4096)
def mask_token(token: str | None) -> str | None:
    """A token shortened so it can be logged: never the whole secret.

    Cached: clients reuse their token on every request."""
    if token is None:
        return None
    if len(token) <= 8:
        return "***"
    return f"{token[:4]}…{token[-2:]}"


@dataclass(slots=True)
class JournalEntry:
    """One request as the mock saw and answered it.

    ``operation`` is the contract's ``operationId``, ``"mock"`` for the mock's own routes,
    ``"callback"`` for a callback attempt, or None for a path outside the contract; ``role``
    is the operation's ``x-sora-mock`` role (``create-task``, ``read-task``) when it has one;
    ``task_status`` and ``task_progress`` are the state a create or read answered with (a
    failed task's code is the ``failure_code`` note). ``token`` is masked.

    ``authorization`` is the request's header as sent (unmasked, never in :meth:`as_dict`:
    :mod:`~sora_mock.engine.journal_view` masks what it shows); ``request_type`` and
    ``response_type`` are the ``Content-Type`` headers; ``request_body`` and
    ``response_body`` are at most :data:`BODY_LIMIT` bytes of bodies ``request_size`` and
    ``response_size`` long, empty once the journal's body budget dropped them. Values only
    (no header tuples): a row of strings and bytes is not walked by the cycle collector.

    A value, like :class:`~sora_mock.contract.Request`: nothing changes an entry once
    recorded; not frozen only because every request builds one and a frozen dataclass is
    several times slower to build.
    """

    seq: int
    time: float
    method: str
    path: str
    operation: str | None
    token: str | None
    status: int
    role: str | None = None
    task_status: str | None = None
    task_progress: int | None = None
    task_id: str | None = None
    scenario: str | None = None
    violations: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)
    authorization: str | None = field(default=None, repr=False)  # a secret: not in reprs
    request_type: str | None = None
    request_body: bytes = field(default=b"", repr=False)
    request_size: int = 0
    response_type: str | None = None
    response_body: bytes = field(default=b"", repr=False)
    response_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "role": self.role,
            "task_status": self.task_status,
            "task_progress": self.task_progress,
            "token": self.token,
            "status": self.status,
            "task_id": self.task_id,
            "scenario": self.scenario,
            "violations": list(self.violations),
            **({"notes": self.notes} if self.notes else {}),
        }


#: Entries are kept as rows: a journal of ten thousand entries is not walked by every
#: collection of the cycle collector.
_ROWS = RowCodec(JournalEntry, blank=("notes",))


class Journal:
    """A bounded log of requests, oldest dropped first.

    Each entry keeps at most ``body_limit`` bytes of each body, and all entries together at
    most ``body_budget`` bytes of bodies: past it, the oldest bodies are dropped first.

    ``lock`` guards it: :meth:`record`'s callers hold it (the engine records under its own
    lock, which it passes here), and readers take it.
    """

    def __init__(
        self,
        lock: threading.RLock,
        size: int = 10_000,
        *,
        body_limit: int = BODY_LIMIT,
        body_budget: int = BODY_BUDGET,
    ) -> None:
        # maxlen 0 keeps nothing (``size or None`` would have made 0 mean "unbounded").
        self._rows: deque[Row] = deque(maxlen=size)
        self._seq = 0
        self.body_limit = body_limit
        self.body_budget = body_budget
        # Bodies beside the rows, oldest first: dropping the oldest is a popleft. Each is a
        # tuple (seq, request, response), not a record: a tuple of ints and bytes leaves the
        # cycle collector's lists, so ten thousand of them cost a collection nothing.
        self._bodies: deque[tuple[int, bytes, bytes]] = deque()
        self._body_bytes = 0
        self._recorded = threading.Condition(lock)
        self._waiting = 0

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        operation: str | None,
        token: str | None,
        status: int,
        role: str | None = None,
        task_status: str | None = None,
        task_progress: int | None = None,
        task_id: str | None = None,
        scenario: str | None = None,
        violations: tuple[str, ...] = (),
        notes: dict[str, Any] | None = None,
        authorization: str | None = None,
        request_type: str | None = None,
        request_body: bytes = b"",
        response_type: str | None = None,
        response_body: bytes = b"",
    ) -> JournalEntry:
        """Append an entry (``token`` already masked) with the next sequence number; return it.

        The bodies are kept as given (a slice when longer than the limit: no copy of a
        short one). The caller holds the journal's lock."""
        self._seq += 1
        limit = self.body_limit
        kept_request = request_body[:limit]
        kept_response = response_body[:limit]
        entry = JournalEntry(
            seq=self._seq,
            time=time,
            method=method,
            path=path,
            operation=operation,
            token=token,
            status=status,
            role=role,
            task_status=task_status,
            task_progress=task_progress,
            task_id=task_id,
            scenario=scenario,
            violations=violations,
            notes=notes or {},
            authorization=authorization,
            request_type=request_type,
            request_size=len(request_body),
            response_type=response_type,
            response_size=len(response_body),
        )
        self._rows.append(_ROWS.encode(entry))
        entry.request_body, entry.response_body = kept_request, kept_response
        while self._bodies and self._bodies[0][0] <= self._seq - len(self._rows):
            self._forget_oldest_bodies()  # its entry has left the journal
        if (kept_request or kept_response) and self._rows.maxlen != 0:
            self._bodies.append((self._seq, kept_request, kept_response))
            self._body_bytes += len(kept_request) + len(kept_response)
            while self._body_bytes > self.body_budget:
                self._forget_oldest_bodies()
        if self._waiting:
            self._recorded.notify_all()
        return entry

    def answered_instead(
        self,
        since: int,
        *,
        status: int,
        response_type: str | None,
        response_body: bytes,
        note: str,
    ) -> None:
        """Record that the requests answered from entry ``since`` on (callback attempts
        aside) got ``status`` and ``response_body`` instead of the answers first recorded:
        they show no task state, and their ``notes`` say why under ``unsaved``. The caller
        holds the journal's lock."""
        first = self._seq - len(self._rows) + 1
        kept = response_body[: self.body_limit]
        amended: set[int] = set()
        for at in range(max(since, first) - first, len(self._rows)):
            entry = _ROWS.decode(self._rows[at])
            if entry.operation == "callback":
                continue
            entry.status, entry.task_status, entry.task_progress = status, None, None
            entry.response_type, entry.response_size = response_type, len(response_body)
            entry.notes = {**entry.notes, "unsaved": note}
            self._rows[at] = _ROWS.encode(entry)
            amended.add(entry.seq)
        for at in range(len(self._bodies) - 1, -1, -1):  # the newest bodies are last
            seq, request, response = self._bodies[at]
            if seq < since:
                break
            if seq in amended:
                self._bodies[at] = (seq, request, kept)
                self._body_bytes += len(kept) - len(response)
        while self._body_bytes > self.body_budget:
            self._forget_oldest_bodies()

    def wait_for(
        self, predicate: Callable[[list[JournalEntry]], bool], timeout: float = 10.0
    ) -> bool:
        """Block until ``predicate(entries)`` holds (checked at each new entry) or time runs
        out; return whether it held. For tests whose state changes in another thread, such
        as callback attempts recorded by the server's dispatcher."""
        with self._recorded:
            self._waiting += 1
            try:
                return self._recorded.wait_for(lambda: predicate(self._entries()), timeout)
            finally:
                self._waiting -= 1

    @property
    def total(self) -> int:
        """How many requests were recorded since the last clear, dropped ones included."""
        return self._seq

    def __iter__(self) -> Iterator[JournalEntry]:
        with self._recorded:
            return iter(self._entries())

    def __len__(self) -> int:
        return len(self._rows)

    def _entries(self) -> list[JournalEntry]:
        entries = [_ROWS.decode(row) for row in self._rows]
        if entries and self._bodies:
            first = entries[0].seq
            for seq, request, response in self._bodies:
                if seq >= first:
                    entry = entries[seq - first]
                    entry.request_body, entry.response_body = request, response
        return entries

    def _forget_oldest_bodies(self) -> None:
        _, request, response = self._bodies.popleft()
        self._body_bytes -= len(request) + len(response)

    def clear(self) -> None:
        """Forget every entry."""
        with self._recorded:
            self._rows.clear()
            self._seq = 0
            self._bodies.clear()
            self._body_bytes = 0
