"""The task store in memory: every task the mock has created, until its retention runs out."""

from __future__ import annotations

import heapq
import secrets
from collections.abc import Iterator

from sora_mock.engine.rows import Row, RowCodec
from sora_mock.engine.store.task import Task


class TaskStore:
    """Tasks in memory by id, dropped once expired. Not thread-safe alone: the engine locks.

    Each task is kept as a row of strings and numbers (:class:`~sora_mock.engine.rows.RowCodec`,
    its plan and reported values shared by value), not as a :class:`Task`: the cycle collector stops
    tracking such a row at its first collection, so the tasks a long-running server holds
    are not walked again at every full collection (0.6-0.7 s near 10^6 task objects). Like
    the SQLite store, :meth:`get` gives a fresh ``Task`` and :meth:`save` keeps what changed.
    """

    def __init__(self) -> None:
        self._codec = RowCodec(Task, shared=("plan", "reported"))
        self._rows: dict[str, Row] = {}
        self._expiry: list[tuple[float, str]] = []
        self._link_secret = secrets.token_bytes(32)
        self._reached = float("-inf")

    def add(self, task: Task) -> bool:
        """Store a new task; False, storing nothing, when its id is taken already."""
        if task.id in self._rows:
            return False
        self._rows[task.id] = self._codec.encode(task)
        heapq.heappush(self._expiry, (task.expires_at(), task.id))
        return True

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now, or None (unknown or already purged)."""
        row = self._rows.get(task_id)
        return None if row is None else self._codec.decode(row)

    def save(self, task: Task) -> None:
        """Keep what a read changed in ``task`` (polls, end time), unless it was purged."""
        if task.id in self._rows:
            self._rows[task.id] = self._codec.encode(task)

    def owns(self, task: Task, token: str | None) -> bool:
        """True when ``token`` created ``task`` (memory is not at rest: tokens are kept)."""
        return task.token == token

    def keep_time(self, now: float) -> float:
        """Note ``now`` as reached; return the latest mock time noted (at least ``now``)."""
        if now > self._reached:
            self._reached = now
        return self._reached

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Task]:
        return iter([self._codec.decode(row) for row in list(self._rows.values())])

    def purge(self, now: float, limit: int | None = None) -> int:
        """Drop tasks whose retention ended by ``now`` (at most ``limit``); return how many."""
        dropped = 0
        while self._expiry and self._expiry[0][0] <= now and (limit is None or dropped < limit):
            _, task_id = heapq.heappop(self._expiry)
            task = self.get(task_id)
            if task is None:
                continue
            if task.ended_at is None and task.peek(now).terminal:
                task.ended_at = task.natural_end(now)
                self.save(task)
            expires = task.expires_at()
            if expires > now:
                heapq.heappush(self._expiry, (expires, task_id))
                continue
            del self._rows[task_id]
            dropped += 1
        return dropped

    def clear(self) -> None:
        """Forget every task."""
        self._rows.clear()
        self._expiry.clear()
        self._codec.clear()

    def link_secret(self) -> bytes:
        """The secret that signs file links: drawn when this store was made."""
        return self._link_secret
