"""A task as plain data, and the protocol every task store follows."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from sora_mock.engine.lifecycle import Lifecycle, Observation, observe
from sora_mock.engine.reported import Reported


@dataclass(slots=True)
class Task:
    """A task: what it was created with, never changed after, and what happened since (its
    status reads and when it ended). Its status is not stored: it is observed from the plan.

    ``reported`` holds the values it reports (shared by every task of the same model and
    scenario); ``draw`` is the seeded number its drawn values (e.g. a generated name) are
    made from.
    """

    id: str
    token: str
    created_at: float
    model: str
    plan: Lifecycle
    reported: Reported
    draw: int
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

    def shown(self, now: float) -> Observation:
        """The state at ``now`` as the admin views and the in-process handle show it, without
        counting a read: what the next status read would see, except that a task whose end
        waits for reads is not shown ended before the read that ends it (it shows its last
        read's state until then)."""
        seen = self.peek(now)  # what the next status read would see
        if seen.terminal and self.ended_at is None and self.plan.counts_polls:
            return observe(self.plan, self.created_at, now, max(0, self.polls - 1))
        return seen

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
        retention = self.reported.retention
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

    def owns(self, task: Task, token: str | None) -> bool:
        """True when ``token`` created ``task`` (a task :meth:`get` gave). A store at rest
        keeps only a keyed hash of the token in ``task.token``; compare through here."""
        ...

    def shown_token(self, task: Task) -> str:
        """The token that created ``task`` as logs and the admin routes show it
        (:func:`~sora_mock.engine.journal.mask_token`): a store at rest keeps it so beside
        the keyed hash."""
        ...

    def keep_time(self, now: float) -> float:
        """Keep ``now`` as a mock time the mock has reached and return the latest time kept
        (at least ``now``): by any engine on this store, before a restart too. A store at
        rest has it durable with the next :meth:`add` or :meth:`save`, or when
        :meth:`settle` returns, so a clock moved forward to it never shows a time below
        one already answered at."""
        ...

    def settle(self) -> None:
        """Make durable the time :meth:`keep_time` kept, if no write has yet (called before
        an answer is sent). :meth:`keep_time` starts an answer and this ends it: a store
        shared by processes may serve the reads and writes between them from the view of
        the file it took at the start."""
        ...

    def pending(self) -> bool:
        """True when answers' writes (or a kept time) wait for :meth:`commit_group`: a store
        that commits them in groups; such answers must not be sent before that commit."""
        ...

    def commit_group(self) -> bool:
        """Commit what :meth:`pending` says waits, in one transaction; False when that
        failed (nothing of it was kept: the answers waiting on it are not acknowledged)."""
        ...

    def __contains__(self, task_id: object) -> bool: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Task]: ...

    def purge(self, now: float, limit: int | None = None) -> int:
        """Drop tasks whose retention ended by ``now`` (at most ``limit``); return how many."""
        ...

    def trim(self, max_tasks: int) -> int:
        """Forget tasks while more than ``max_tasks`` are stored; return how many. Finished
        tasks (their end recorded: a status read or a purge saw it) go first: in memory in
        the order their ends were recorded, in a state file those whose retention ends
        soonest (the earliest ended, under one retention); when none is stored, those whose
        retention ends soonest, finished or not."""
        ...

    def clear(self) -> None:
        """Forget every task."""
        ...

    def link_secret(self) -> bytes:
        """32 random bytes that sign file links, the same for every engine on this store
        (drawn once per memory store; kept in a state file, so workers and a restarted
        server sign and check alike). Not forgotten by :meth:`clear`."""
        ...
