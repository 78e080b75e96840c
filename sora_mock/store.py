"""The task store: every task the mock has created, until its retention runs out."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from sora_mock.config import TaskDefaults
from sora_mock.lifecycle import Lifecycle, Observation, observe


@dataclass(slots=True)
class Task:
    """A task: what it was created with, never changed after, and what happened since (its
    status reads and when it ended). Its status is not stored: it is observed from the plan.
    """

    id: str
    token: str
    created_at: float
    model: str
    plan: Lifecycle
    defaults: TaskDefaults
    character_name: str
    video_url: str
    timestamps: str
    base_url: str
    scenario: str | None = None
    callback_url: str | None = None
    polls: int = 0
    ended_at: float | None = None

    @property
    def created(self) -> int:
        """Creation time in whole unix seconds, as the API reports it."""
        return int(self.created_at)

    def peek(self, now: float) -> Observation:
        """The state at ``now`` without counting a read."""
        return observe(self.plan, self.created_at, now, self.polls)

    def read(self, now: float) -> Observation:
        """The state at ``now`` as a status read sees it: counts the read, notes the end."""
        if self.ended_at is not None:  # over: its final state, whatever the time
            self.polls += 1
            return self.plan.final
        seen = self.peek(now)
        self.polls += 1
        if seen.terminal and self.ended_at is None:
            self.ended_at = self.natural_end(now)
        return seen

    def natural_end(self, now: float) -> float:
        """When the task ended, given that it is terminal at ``now``."""
        if self.plan.counts_polls:
            return now
        return self.created_at + self.plan.seconds_to_end

    def expires_at(self) -> float:
        """Mock time after which the task can no longer be queried."""
        retention = self.defaults.retention
        if self.ended_at is not None:
            return self.ended_at + retention
        end = self.plan.seconds_to_end
        # A task that never ends, or whose end waits for polls, is kept for the retention
        # after the earliest time it could end.
        return self.created_at + (0.0 if math.isinf(end) else end) + retention


class TaskStorage(Protocol):
    """Where tasks live: in memory (the default) or in a SQLite file shared by processes."""

    def add(self, task: Task) -> None:
        """Store a new task (its id must be new)."""
        ...

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id``, or None."""
        ...

    def save(self, task: Task) -> None:
        """Keep what a read changed in ``task`` (polls, end time)."""
        ...

    def __contains__(self, task_id: object) -> bool: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Task]: ...

    def purge(self, now: float, limit: int | None = None) -> int:
        """Drop tasks whose retention ended by ``now`` (at most ``limit``); return how many."""
        ...

    def clear(self) -> None:
        """Forget every task."""
        ...


class TaskStore:
    """Tasks in memory by id, dropped once expired. Not thread-safe alone: the engine locks."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._expiry: list[tuple[float, str]] = []

    def add(self, task: Task) -> None:
        """Store a new task."""
        self._tasks[task.id] = task
        heapq.heappush(self._expiry, (task.expires_at(), task.id))

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id``, or None (unknown or already purged)."""
        return self._tasks.get(task_id)

    def save(self, task: Task) -> None:
        """Nothing to do: the task in memory is its state."""

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self._tasks.values()))

    def purge(self, now: float, limit: int | None = None) -> int:
        """Drop tasks whose retention ended by ``now`` (at most ``limit``); return how many."""
        dropped = 0
        while self._expiry and self._expiry[0][0] <= now and (limit is None or dropped < limit):
            _, task_id = heapq.heappop(self._expiry)
            task = self._tasks.get(task_id)
            if task is None:
                continue
            if task.ended_at is None and task.peek(now).terminal:
                task.ended_at = task.natural_end(now)
            expires = task.expires_at()
            if expires > now:
                heapq.heappush(self._expiry, (expires, task_id))
                continue
            del self._tasks[task_id]
            dropped += 1
        return dropped

    def clear(self) -> None:
        """Forget every task."""
        self._tasks.clear()
        self._expiry.clear()
