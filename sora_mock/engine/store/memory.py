"""The task store: every task the mock has created, until its retention runs out."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

from sora_mock.engine.config import TaskDefaults
from sora_mock.engine.lifecycle import Lifecycle, Observation, observe


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

    def add(self, task: Task) -> bool:
        """Store a new task; False, storing nothing, when its id is taken already."""
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


#: A task as :class:`TaskStore` keeps it: the fields of :class:`Task` after its id, in order,
#: with ``plan`` and ``defaults`` replaced by the index of that pair in the store's kinds.
_Row = tuple[
    str, float, str, int, str, str, str, str, str | None, str | None, int, float | None
]  # fmt: skip
#: Where a row's read state (polls, then end time) starts: the fields before it never change.
_READ_STATE: Final = 10


class TaskStore:
    """Tasks in memory by id, dropped once expired. Not thread-safe alone: the engine locks.

    Each task is kept as a plain tuple of strings and numbers (plan and defaults, shared by
    many tasks, by index), not as a :class:`Task`: the cycle collector stops tracking such a
    tuple at its first collection, so the tasks a long-running server holds are not walked
    again at every full collection (as ``Task`` objects were: 0.6-0.7 s near 10^6 tasks).
    The dict of rows still is, when the collector takes it for a young object: never in
    ``serve``, which freezes it with the start-up heap; in-process, after a full collection
    untracked it and a create tracked it again (about 80 ms at 10^6 tasks). Like the SQLite
    store, :meth:`get` gives a fresh ``Task`` and :meth:`save` keeps what changed.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, _Row] = {}
        self._expiry: list[tuple[float, str]] = []
        # The (plan, defaults) pairs of stored tasks (one per scenario plan the engine made),
        # and each pair's index by the pair's object ids.
        self._kinds: list[tuple[Lifecycle, TaskDefaults]] = []
        self._kind_index: dict[tuple[int, int], int] = {}

    def add(self, task: Task) -> bool:
        """Store a new task; False, storing nothing, when its id is taken already."""
        task_id = task.id
        if task_id in self._tasks:
            return False
        kind = self._kind_index.get((id(task.plan), id(task.defaults)))
        if kind is None:
            kind = self._new_kind(task.plan, task.defaults)
        # The row built here rather than by a helper: this runs on every create.
        self._tasks[task_id] = (
            task.token, task.created_at, task.model, kind, task.character_name,
            task.video_url, task.timestamps, task.base_url, task.scenario, task.callback_url,
            task.polls, task.ended_at,
        )  # fmt: skip
        heapq.heappush(self._expiry, (task.expires_at(), task_id))
        return True

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now, or None (unknown or already purged)."""
        row = self._tasks.get(task_id)
        return None if row is None else self._task(task_id, row)

    def save(self, task: Task) -> None:
        """Keep what a read changed in ``task`` (polls, end time), unless it was purged."""
        row = self._tasks.get(task.id)
        if row is not None:
            # Concatenated: unpacking into a new tuple builds a list first, at twice the cost.
            self._tasks[task.id] = row[:_READ_STATE] + (task.polls, task.ended_at)  # noqa: RUF005

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter([self._task(task_id, row) for task_id, row in list(self._tasks.items())])

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
            del self._tasks[task_id]
            dropped += 1
        return dropped

    def clear(self) -> None:
        """Forget every task."""
        self._tasks.clear()
        self._expiry.clear()
        self._kinds.clear()
        self._kind_index.clear()

    def _new_kind(self, plan: Lifecycle, defaults: TaskDefaults) -> int:
        """The index of a (plan, defaults) pair not seen before, now kept (so that the ids
        its key is made of stay its own)."""
        kind = self._kind_index[(id(plan), id(defaults))] = len(self._kinds)
        self._kinds.append((plan, defaults))
        return kind

    def _task(self, task_id: str, row: _Row) -> Task:
        plan, defaults = self._kinds[row[3]]
        # Positional, in field order (keywords would cost the call a dict).
        return Task(
            task_id, row[0], row[1], row[2], plan, defaults, row[4], row[5], row[6], row[7],
            row[8], row[9], row[10], row[11],
        )  # fmt: skip
