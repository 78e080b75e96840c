"""Task callbacks: when a task with a ``callback_url`` ends, POST its body there.

The engine only keeps the outbox (what is due when, on the mock clock) and records each
attempt; the doors deliver: :class:`CallbackDispatcher` inside the HTTP server's event
loop, :func:`deliver_due` for in-process use. A non-2xx answer or a connection error is
retried at most 3 times, 1, 2 and 4 seconds (mock time) apart, as the vendor documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from sora_mock.engine import Engine

RETRY_DELAYS = (1.0, 2.0, 4.0)
TIMEOUT_SECONDS = 10.0

log = logging.getLogger("sora_mock.callbacks")


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


def deliver_due(engine: Engine, client: httpx.Client) -> int:
    """Deliver every callback due now with a synchronous client; return how many were tried."""
    deliveries = engine.callbacks_due()
    for delivery in deliveries:
        status, error = None, None
        try:
            response = client.post(
                delivery.url,
                content=delivery.body,
                headers={"content-type": "application/json"},
                timeout=TIMEOUT_SECONDS,
            )
            status = response.status_code
        except Exception as exc:  # any failure to deliver is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
        engine.callback_done(delivery, status, error)
    return len(deliveries)


class CallbackDispatcher:
    """Delivers due callbacks from inside an asyncio event loop, never blocking requests."""

    def __init__(self, engine: Engine, interval: float = 0.05) -> None:
        self.engine = engine
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Begin checking the outbox every ``interval`` real seconds."""
        import httpx

        self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="sora-mock callbacks")

    async def stop(self) -> None:
        """Stop checking and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        pending: set[asyncio.Task[None]] = set()
        while True:
            for delivery in self.engine.callbacks_due():
                task = asyncio.create_task(self._deliver(delivery))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(self.interval)

    async def _deliver(self, delivery: Delivery) -> None:
        assert self._client is not None
        status, error = None, None
        try:
            response = await self._client.post(
                delivery.url, content=delivery.body, headers={"content-type": "application/json"}
            )
            status = response.status_code
        except Exception as exc:  # recorded and retried, never raised into the server
            error = f"{type(exc).__name__}: {exc}"
        try:
            self.engine.callback_done(delivery, status, error)
        except Exception:  # pragma: no cover - a bug here must not stop deliveries
            log.exception("recording a callback attempt failed")
