"""The task store: every task the mock has created, until its retention runs out."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from sora_mock.config import Lifecycle, TaskDefaults
from sora_mock.lifecycle import Observation, ends_at, observe


@dataclass(frozen=True, slots=True)
class Task:
    """A task as created. Its status is not stored: :meth:`observe` computes it."""

    id: str
    token: str
    created_at: float
    model: str
    plan: Lifecycle
    defaults: TaskDefaults
    character_name: str
    video_url: str
    timestamps: str
    scenario: str | None = None
    callback_url: str | None = None

    @property
    def created(self) -> int:
        """Creation time in whole unix seconds, as the API reports it."""
        return int(self.created_at)

    @property
    def ends_at(self) -> float:
        """Mock time at which the task reaches its terminal state."""
        return ends_at(self.plan, self.created_at)

    @property
    def expires_at(self) -> float:
        """Mock time after which the task can no longer be queried."""
        return self.ends_at + self.defaults.retention

    def observe(self, now: float) -> Observation:
        """The task's state at mock time ``now``."""
        return observe(self.plan, self.created_at, now)


class TaskStore:
    """Tasks by id, dropped once expired. Not thread-safe alone: the engine holds a lock."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._expiry: list[tuple[float, str]] = []

    def add(self, task: Task) -> None:
        """Store a new task."""
        self._tasks[task.id] = task
        heapq.heappush(self._expiry, (task.expires_at, task.id))

    def get(self, task_id: str) -> Task | None:
        """The task with ``task_id``, or None (unknown or already purged)."""
        return self._tasks.get(task_id)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self._tasks.values()))

    def purge(self, now: float) -> int:
        """Drop every task whose retention ended by ``now``; return how many went."""
        dropped = 0
        while self._expiry and self._expiry[0][0] <= now:
            _, task_id = heapq.heappop(self._expiry)
            if self._tasks.pop(task_id, None) is not None:
                dropped += 1
        return dropped

    def clear(self) -> None:
        """Forget every task."""
        self._tasks.clear()
        self._expiry.clear()
