"""The request journal: what each request was, who sent it and what it got."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


def mask_token(token: str | None) -> str | None:
    """A token shortened so it can be logged: never the whole secret."""
    if token is None:
        return None
    if len(token) <= 8:
        return "***"
    return f"{token[:4]}…{token[-2:]}"


@dataclass(frozen=True)
class JournalEntry:
    """One request as the mock saw and answered it."""

    seq: int
    time: float
    method: str
    path: str
    operation: str | None
    token: str | None  # masked
    status: int
    task_id: str | None = None
    scenario: str | None = None
    violations: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "token": self.token,
            "status": self.status,
            "task_id": self.task_id,
            "scenario": self.scenario,
            "violations": list(self.violations),
            **({"notes": self.notes} if self.notes else {}),
        }


class Journal:
    """A bounded log of requests, oldest dropped first."""

    def __init__(self, size: int = 10_000) -> None:
        # maxlen 0 keeps nothing (``size or None`` would have made 0 mean "unbounded").
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._seq = 0
        self._recorded = threading.Condition()

    def record(self, **fields: Any) -> JournalEntry:
        """Append an entry (fields as in :class:`JournalEntry`, without ``seq``)."""
        with self._recorded:
            self._seq += 1
            entry = JournalEntry(seq=self._seq, **fields)
            if self._entries.maxlen != 0:
                self._entries.append(entry)
            self._recorded.notify_all()
        return entry

    def wait_for(
        self, predicate: Callable[[list[JournalEntry]], bool], timeout: float = 10.0
    ) -> bool:
        """Block until ``predicate(entries)`` holds (checked at each new entry) or time runs
        out; return whether it held. For tests whose state changes in another thread, such
        as callback attempts recorded by the server's dispatcher."""
        with self._recorded:
            return self._recorded.wait_for(lambda: predicate(list(self._entries)), timeout)

    @property
    def total(self) -> int:
        """How many requests were recorded since the last clear, dropped ones included."""
        return self._seq

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> JournalEntry | None:
        """The newest entry kept, if any (cheap: no copy of the journal)."""
        return self._entries[-1] if self._entries else None

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self._seq = 0
