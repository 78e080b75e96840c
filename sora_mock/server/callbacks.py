"""Callback delivery inside the HTTP server's event loop (the outbox is the engine's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sora_mock.engine import TIMEOUT_SECONDS, Delivery, Engine

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("sora_mock.callbacks")


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
