"""The callback outbox: when a task with a ``callback_url`` ends, its body is due there.

The engine keeps the outbox (what is due when, on the mock clock) and records each attempt;
the doors deliver (:mod:`sora_mock.server.callbacks` inside the HTTP server's event loop,
:mod:`sora_mock.inprocess._callbacks` in-process). A non-2xx answer or a connection error is
retried at most 3 times, 1, 2 and 4 seconds (mock time) apart, as the vendor documents; a
target the server refuses to contact (it resolves to a private address) is not retried.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

RETRY_DELAYS = (1.0, 2.0, 4.0)
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    """One attempt to POST a task's body to its callback URL."""

    task_id: str
    url: str
    body: bytes
    attempt: int  # 1 for the first try
    due_at: float
    sent_at: float  # mock time the attempt was handed to a door; retries count from here


class Outbox:
    """Deliveries waiting for their time, earliest first. Pure; the engine locks it."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, str, int]] = []
        self._seq = 0

    def schedule(self, task_id: str, due_at: float, attempt: int = 1) -> None:
        """Plan attempt ``attempt`` for ``task_id`` at mock time ``due_at``."""
        self._seq += 1
        heapq.heappush(self._queue, (due_at, self._seq, task_id, attempt))

    def pop_due(self, now: float) -> list[tuple[float, str, int]]:
        """Every ``(due_at, task_id, attempt)`` due by ``now``, removed from the outbox."""
        due = []
        while self._queue and self._queue[0][0] <= now:
            due_at, _, task_id, attempt = heapq.heappop(self._queue)
            due.append((due_at, task_id, attempt))
        return due

    def retry(self, delivery: Delivery) -> bool:
        """Plan the next attempt after a failed one; False when no retries are left."""
        if delivery.attempt > len(RETRY_DELAYS):
            return False
        due = delivery.sent_at + RETRY_DELAYS[delivery.attempt - 1]
        self.schedule(delivery.task_id, due, delivery.attempt + 1)
        return True

    def __len__(self) -> int:
        return len(self._queue)

    def clear(self) -> None:
        """Forget every planned delivery."""
        self._queue.clear()
