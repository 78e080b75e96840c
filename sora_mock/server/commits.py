"""Group commit: the answers of one event-loop pass share one commit of the state file.

A store that commits in groups (:class:`~sora_mock.engine.SqliteTaskStore` with
``group=True``) keeps every answer's writes in one open transaction. An answer whose writes,
or whose reads of others' writes, are not yet committed waits in :meth:`GroupCommit.saved`;
the first to wait in a pass of the loop schedules the commit with ``loop.call_soon``, so it
runs once the pass has computed every answer it can, and settles them all at once.
"""

from __future__ import annotations

import asyncio
import logging

from sora_mock.contract import Response
from sora_mock.engine import Engine
from sora_mock.server.envelopes import unsaved

log = logging.getLogger("sora_mock.server")


class GroupCommit:
    """Holds answers until the engine's pending writes are committed, one commit a pass."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: list[asyncio.Future[bool]] = []
        self._unsaved = unsaved()

    async def kept(self, response: Response) -> Response:
        """``response`` once what it wrote is committed; the 503 envelope in its place when
        the commit failed (the journal records that answer instead, see
        :meth:`~sora_mock.engine.Engine.commit_writes`)."""
        return response if await self.saved() else self._unsaved

    async def saved(self) -> bool:
        """True when the engine has no writes pending, or when the commit they wait for
        succeeded; False when it failed."""
        return not self.engine.writes_pending() or await self.durable()

    async def durable(self) -> bool:
        """Wait for the next commit of the engine's writes; True when it committed, False
        when it failed (nothing written since the previous commit was kept)."""
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._flush)
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiting.append(waiter)
        return await waiter

    def _flush(self) -> None:
        """Commit, then tell every waiter how it went (a cancelled waiter is skipped)."""
        waiting, self._waiting = self._waiting, []
        try:
            committed = self.engine.commit_writes(refused=self._unsaved)
        except Exception:  # a bug must not leave the answers waiting for ever
            log.exception("sora-mock failed to commit the state file")
            committed = False
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(committed)
