"""Callback delivery inside the HTTP server's event loop (the outbox is the engine's).

Before each attempt the target is checked as at create (:func:`callback_target`), its host
name is resolved, and every address it resolves to is checked by the same rule; the
connection then goes to the first address checked, never to a second lookup of the name
(no DNS rebinding between check and connect). The name travels as the ``Host`` header and
as the TLS server name, so certificates are verified against it. A refused target is not
contacted: the journal records the attempt with a ``refused`` note, and it is not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sora_mock.contract import CallbackTarget, callback_target
from sora_mock.engine import TIMEOUT_SECONDS, Delivery, Engine
from sora_mock.server.commits import GroupCommit

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("sora_mock.callbacks")

#: The error a due delivery is recorded with when the state file could not save the state it
#: shows: it is not sent, and is retried as a failed attempt is.
UNSAVED = "not sent: the state file could not save the task's state"

#: Resolves ``(host, port)`` to IP addresses, as text: the dispatcher's only name lookup.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection (the system's resolver)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an attempt goes: the address checked, or why the target is refused."""

    address: str | None
    refused: str | None


class CallbackDispatcher:
    """Delivers due callbacks from inside an asyncio event loop, never blocking requests.

    ``resolver`` looks up callback host names (default: the system's, :func:`resolve`);
    tests give one that answers from a table. ``commits`` is the server's group commit (by
    default one of the dispatcher's own): due deliveries wait for it when finding them wrote
    to the state file.
    """

    def __init__(
        self,
        engine: Engine,
        interval: float = 0.05,
        *,
        resolver: Resolver = resolve,
        commits: GroupCommit | None = None,
    ) -> None:
        self.engine = engine
        self.commits = commits if commits is not None else GroupCommit(engine)
        self.interval = interval
        self.resolver = resolver
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Begin checking the outbox every ``interval`` real seconds."""
        import httpx

        # No pooled connections: a connection is made to an address checked for one name.
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
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
            due = self.engine.callbacks_due()
            # The states they show must stay shown after a restart: none goes out unsaved.
            if due and not await self.commits.saved():
                for delivery in due:
                    self.engine.callback_done(delivery, None, UNSAVED)
                due = []
            for delivery in due:
                task = asyncio.create_task(self.deliver(delivery))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(self.interval)

    async def destination(self, target: CallbackTarget) -> Destination:
        """The address to connect to for ``target``, once every address it has is checked.

        A failed lookup raises (the attempt is retried); a refusal is a result.
        """
        if target.problem is not None:
            return Destination(None, target.problem)
        addresses = (
            [target.address]
            if target.address is not None
            else list(await self.resolver(target.host, target.port))
        )
        if not addresses:  # a lookup that failed: retried like a connection that did
            raise OSError(f"{target.host} resolves to no address")
        refusals = [found for found in map(target.address_problem, addresses) if found]
        return Destination(None, refusals[0]) if refusals else Destination(addresses[0], None)

    async def deliver(self, delivery: Delivery) -> None:
        """Make one attempt of ``delivery`` (unless its target is refused) and record it."""
        assert self._client is not None, "start() the dispatcher first"
        config = self.engine.config
        target = callback_target(
            delivery.url,
            allow_loopback=config.allow_loopback_callbacks,
            allow_ports=config.allow_callback_ports,
        )
        status, error, refused = None, None, None
        try:
            destination = await self.destination(target)
            refused = destination.refused
            if destination.address is not None:
                status = await self._post(delivery, target, destination.address)
        except Exception as exc:  # recorded and retried, never raised into the server
            error = f"{type(exc).__name__}: {exc}"
        try:
            self.engine.callback_done(delivery, status, error, refused=refused)
        except Exception:  # pragma: no cover - a bug here must not stop deliveries
            log.exception("recording a callback attempt failed")

    async def _post(self, delivery: Delivery, target: CallbackTarget, address: str) -> int:
        assert self._client is not None
        import httpx

        url = httpx.URL(delivery.url).copy_with(host=address, port=target.port)
        headers = {"content-type": "application/json"}
        extensions = {}
        if target.address is None:  # a name: it is what the receiver and TLS expect
            headers["host"] = target.authority
            extensions["sni_hostname"] = target.host
        response = await self._client.post(
            url, content=delivery.body, headers=headers, extensions=extensions
        )
        return response.status_code
