"""The task store in memory: every task the mock has created, until its retention runs out
or the bound on stored tasks makes room for newer ones."""

from __future__ import annotations

import heapq
import secrets
from collections import deque
from collections.abc import Iterator

from sora_mock.engine.journal import mask_token
from sora_mock.engine.rows import Row, RowCodec
from sora_mock.engine.store.task import Task

#: Most distinct strings a store keeps one copy of (tokens, models, base URLs repeat).
_STRINGS_KEPT = 4096
#: Stale entries the expiry order may hold (tasks forgotten early) before it is rebuilt.
_STALE_KEPT = 1024


class TaskStore:
    """Tasks in memory by id, dropped once expired or forgotten beyond the bound (:meth:`trim`).
    Not thread-safe alone: the engine locks.

    Each task is kept as a row of strings and numbers (:class:`~sora_mock.engine.rows.RowCodec`,
    its plan and reported values shared by value), not as a :class:`Task`: the cycle collector stops
    tracking such a row at its first collection, so the tasks a long-running server holds
    are not walked again at every full collection (0.6-0.7 s near 10^6 task objects). Like
    the SQLite store, :meth:`get` gives a fresh ``Task`` and :meth:`save` keeps what changed.
    The token, model and base URL that many tasks repeat are kept as one string each.
    ``link_secret`` signs file links (default: 32 random bytes).
    """

    def __init__(self, link_secret: bytes | None = None) -> None:
        self._codec = RowCodec(Task, shared=("plan", "reported"))
        self._rows: dict[str, Row] = {}
        self._expiry: list[tuple[float, str]] = []
        self._finished: deque[str] = deque()  # in the order their ends were seen
        self._ended_at = self._codec.names.index("ended_at")  # where a row keeps it
        self._strings: dict[str, str] = {}
        self._link_secret = secrets.token_bytes(32) if link_secret is None else link_secret
        self._reached = float("-inf")

    def add(self, task: Task) -> bool:
        """Store a new task; False, storing nothing, when its id is taken already."""
        if task.id in self._rows:
            return False
        # Equal strings in place of the task's own: the task reads the same, the row holds
        # one copy of each value many tasks share.
        same = self._same
        task.token = same(task.token)
        task.model = same(task.model)
        task.base_url = same(task.base_url)
        self._rows[task.id] = self._codec.encode(task)
        heapq.heappush(self._expiry, (task.expires_at(), task.id))
        if task.ended_at is not None:
            self._finished.append(task.id)
        return True

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now, or None (unknown or already purged)."""
        row = self._rows.get(task_id)
        return None if row is None else self._codec.decode(row)

    def save(self, task: Task) -> None:
        """Keep what a read changed in ``task`` (polls, end time), unless it was purged."""
        kept = self._rows.get(task.id)
        if kept is None:
            return
        self._rows[task.id] = self._codec.encode(task)
        if task.ended_at is not None and kept[self._ended_at] is None:
            self._finished.append(task.id)

    def owns(self, task: Task, token: str | None) -> bool:
        """True when ``token`` created ``task`` (memory is not at rest: tokens are kept)."""
        return task.token == token

    def shown_token(self, task: Task) -> str:
        """The masked token of ``task`` (:func:`~sora_mock.engine.journal.mask_token`)."""
        return mask_token(task.token) or ""

    def keep_time(self, now: float) -> float:
        """Note ``now`` as reached; return the latest mock time noted (at least ``now``)."""
        if now > self._reached:
            self._reached = now
        return self._reached

    def settle(self) -> None:
        """Nothing to make durable: memory is not kept."""

    def pending(self) -> bool:
        """False: memory commits nothing."""
        return False

    def commit_group(self) -> bool:
        """True: nothing waits."""
        return True

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
            expires = task.expires_at()
            if expires > now:
                self.save(task)
                heapq.heappush(self._expiry, (expires, task_id))
                continue
            del self._rows[task_id]
            dropped += 1
        self._drop_stale()
        return dropped

    def trim(self, max_tasks: int) -> int:
        """Forget tasks while more than ``max_tasks`` are stored; return how many. Finished
        tasks go first, in the order their ends were recorded (by a status read or a purge);
        when none is stored, those whose retention ends soonest."""
        rows = self._rows
        forgotten = 0
        while len(rows) > max_tasks:
            task_id = None
            while self._finished and task_id is None:
                task_id = self._finished.popleft()
                if task_id not in rows:
                    task_id = None
            while task_id is None:  # none finished: every stored task has an expiry entry
                _, task_id = heapq.heappop(self._expiry)
                if task_id not in rows:
                    task_id = None
            del rows[task_id]
            forgotten += 1
        if forgotten:
            self._drop_stale()
        return forgotten

    def clear(self) -> None:
        """Forget every task."""
        self._rows.clear()
        self._expiry.clear()
        self._finished.clear()
        self._strings.clear()
        self._codec.clear()

    def link_secret(self) -> bytes:
        """The secret that signs file links: given or drawn when this store was made."""
        return self._link_secret

    def _same(self, text: str) -> str:
        """The one copy of ``text`` this store keeps (the first few thousand values only)."""
        kept = self._strings.get(text)
        if kept is None:
            if len(self._strings) >= _STRINGS_KEPT:
                self._strings.clear()
            kept = self._strings[text] = text
        return kept

    def _drop_stale(self) -> None:
        """Rebuild the expiry and finished orders without the tasks forgotten meanwhile,
        once they hold many (each rebuild is paid for by as many forgotten tasks)."""
        rows = self._rows
        if len(self._expiry) > 2 * len(rows) + _STALE_KEPT:
            self._expiry = [entry for entry in self._expiry if entry[1] in rows]
            heapq.heapify(self._expiry)
        if len(self._finished) > len(rows) + _STALE_KEPT:
            self._finished = deque(task_id for task_id in self._finished if task_id in rows)
