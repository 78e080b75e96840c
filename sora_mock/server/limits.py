"""The limits a long-running server keeps: idle connections, open connections, its log, and
its worker processes' lives.

- A keep-alive connection idle past :attr:`ConnectionLimits.keep_alive` seconds is closed
  (uvicorn's ``timeout_keep_alive``), and so is one whose request head is not whole within
  :attr:`ConnectionLimits.head_timeout` seconds (the protocols' ``head_timeout``).
- At most :attr:`ConnectionLimits.max_connections` connections are served at once, by
  default the process's file limit less a reserve (:func:`default_max_connections`); a
  connection over the cap is answered ``503`` with the error envelope and closed, before
  its request is parsed (:func:`guarded_protocol`).
- :class:`RepeatFilter` lets a warning through once per kind per interval, then says how
  many like it were held back; a client's reset loses its traceback.
- :func:`die_with_parent` ends a worker process when the process that started it dies.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import os
import resource
import signal
import sys
import threading
import time
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


class RepeatFilter(logging.Filter):
    """Lets a warning (or worse) through once per kind per ``interval`` seconds.

    A kind is the logger, the message before its arguments and the exception's type; the
    first record of a kind after an interval says how many were held back. A client that
    reset its connection is no fault of the server: such a record keeps one line and loses
    its traceback. Lines below WARNING (the request log) always pass.
    """

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionError):
            record.msg = f"{record.getMessage()}: {error}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        kind = (record.name, str(record.msg), type(error).__name__)
        now = self.clock()
        with self._lock:
            since, held = self._seen.get(kind, (-float("inf"), 0))
            passes = now - since >= self.interval
            self._seen[kind] = (now, 0) if passes else (since, held + 1)
        if passes and held:
            record.msg = (
                f"{record.getMessage()} ({held} more like this in the last {self.interval:g} s)"
            )
            record.args = ()
        return passes


#: The loggers whose warnings :func:`quiet_repeats` throttles.
THROTTLED_LOGGERS = ("uvicorn.error", "asyncio", "sora_mock.server", "sora_mock.callbacks")


def quiet_repeats(interval: float = 10.0) -> None:
    """Put one :class:`RepeatFilter` on each of :data:`THROTTLED_LOGGERS` (once)."""
    repeats = RepeatFilter(interval)
    for name in THROTTLED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(repeats)


#: prctl(2)'s option that sends the calling process a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process (SIGTERM, a graceful stop) when process ``parent`` dies.

    On Linux the kernel sends the signal (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon
    thread checks once a second. Either way, a parent already gone ends this process now.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


__all__ = [
    "ConnectionLimits",
    "Refusal",
    "RepeatFilter",
    "default_max_connections",
    "die_with_parent",
    "guarded",
    "guarded_protocol",
    "quiet_repeats",
]
