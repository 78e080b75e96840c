"""The limits a long-running server keeps on its connections: how long they idle and how
many are open.

- A keep-alive connection idle past :attr:`ConnectionLimits.keep_alive` seconds is closed
  (uvicorn's ``timeout_keep_alive``), and so is one whose request head is not whole within
  :attr:`ConnectionLimits.head_timeout` seconds (the protocols' ``head_timeout``).
- At most :attr:`ConnectionLimits.max_connections` connections are served at once, by
  default the process's file limit less a reserve (:func:`default_max_connections`); a
  connection over the cap is answered ``503`` with the error envelope and closed, before
  its request is parsed (:func:`guarded_protocol`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.server import ServerState

from sora_mock.server.edge import error_bytes

#: File descriptors left for what is not a client connection: the listening socket, log
#: files, the state file, callback deliveries, the event loop's own.
FILE_RESERVE = 64

#: Seconds a refused connection may stay open for its request to arrive, so the client
#: reads the 503 instead of a reset.
REFUSAL_GRACE = 1.0

log = logging.getLogger("sora_mock.server")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How long connections may idle and how many may be open.

    ``keep_alive``: seconds a keep-alive connection may idle between requests.
    ``head_timeout``: seconds a request head may take to arrive whole, from the connection's
    opening or the head's first byte.
    ``max_connections``: connections served at once; None is :func:`default_max_connections`.
    """

    keep_alive: int = 5
    head_timeout: float = 5.0
    max_connections: int | None = None

    def connection_cap(self) -> int:
        """:attr:`max_connections`, or the default derived from the file limit."""
        return self.max_connections or default_max_connections()


def default_max_connections() -> int:
    """The process's soft limit of open files less a reserve (an eighth, at least
    :data:`FILE_RESERVE`), and at least 1."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(1, soft - max(FILE_RESERVE, soft // 8))


def guarded(protocol: type[asyncio.Protocol], limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """A protocol factory for uvicorn's ``http`` setting: ``protocol`` with the limits'
    head timeout, or a :class:`Refusal` once their cap of connections are open.

    uvicorn calls its ``http`` setting like a class; a partial of a module function keeps
    it picklable for worker processes.
    """
    cap = limits.connection_cap()
    factory = functools.partial(guarded_protocol, protocol, cap, limits.head_timeout)
    return cast("type[asyncio.Protocol]", factory)


def guarded_protocol(
    protocol: type[asyncio.Protocol],
    cap: int,
    head_timeout: float,
    *,
    config: Config,
    server_state: ServerState,
    app_state: dict[str, Any],
    _loop: asyncio.AbstractEventLoop | None = None,
) -> asyncio.Protocol:
    """A new connection's protocol: a :class:`Refusal` when ``cap`` are open already."""
    if len(server_state.connections) >= cap:
        log.warning("Refused a connection: %d are open, the most served at once", cap)
        return Refusal(server_state.default_headers)
    factory = cast("Callable[..., asyncio.Protocol]", protocol)
    return factory(
        config=config,
        server_state=server_state,
        app_state=app_state,
        _loop=_loop,
        head_timeout=head_timeout,
    )


class Refusal(asyncio.Protocol):
    """Answers ``503`` with the error envelope and closes.

    The answer goes out at once, then the write side closes; the request that arrives is
    read and dropped until the client closes or :data:`REFUSAL_GRACE` passes, so closing
    does not reset the connection under an answer the client has not read yet.
    """

    def __init__(self, default_headers: list[tuple[bytes, bytes]]) -> None:
        self.default_headers = default_headers
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        self.transport.write(error_bytes(503, self.default_headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.timer = asyncio.get_running_loop().call_later(REFUSAL_GRACE, self.transport.close)

    def data_received(self, data: bytes) -> None:
        """Drop what the client sends."""

    def eof_received(self) -> bool:
        if self.transport is not None:
            self.transport.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()


__all__ = [
    "ConnectionLimits",
    "Refusal",
    "default_max_connections",
    "guarded",
    "guarded_protocol",
]
