"""What the server's protocols do on their own: answer a malformed or oversized request
(after the answers of the requests before it), and close a connection whose request head
does not arrive in time."""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any, Protocol

from uvicorn.server import ServerState

from sora_mock.server.envelopes import protocol_error


class _Cycle(Protocol):
    @property
    def response_started(self) -> bool: ...

    @property
    def response_complete(self) -> bool: ...


class ServerProtocol(Protocol):
    """The public parts of a uvicorn HTTP protocol that :func:`reject` uses."""

    @property
    def transport(self) -> asyncio.Transport: ...

    @property
    def cycle(self) -> _Cycle | None: ...

    @property
    def server_state(self) -> ServerState: ...


def error_bytes(status: int, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete ``HTTP/1.1`` error response that closes the connection."""
    body = json.dumps(protocol_error(status), separators=(",", ":")).encode()
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def reject(protocol: ServerProtocol, status: int) -> None:
    """Answer ``status`` with the envelope (unless an answer is under way) and close."""
    transport = protocol.transport
    if transport.is_closing():
        return
    cycle = protocol.cycle
    # Mid-response, another status line would corrupt the stream: just close. A cycle
    # whose answer is complete belongs to an earlier request.
    if cycle is None or not cycle.response_started or cycle.response_complete:
        transport.write(error_bytes(status, protocol.server_state.default_headers))
    transport.close()


class HeadDeadline:
    """Closes the connection when a request head is not complete within
    :attr:`head_timeout` seconds of the connection opening or of its first byte.

    Mixed into the protocols (before uvicorn's class): it takes the ``head_timeout``
    keyword, starts the clock when the connection opens and stops it when it closes; the
    protocols call :meth:`watch_head` whenever they may start or finish waiting for a head
    in between. An idle connection between requests is the keep-alive timeout's, not this
    one's.
    """

    #: The pending close, while a head is awaited.
    head_timer: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Seconds a request head may take to arrive whole.
        self.head_timeout = head_timeout

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.watch_head(True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.watch_head(False)
        super().connection_lost(exc)  # type: ignore[misc]

    def watch_head(self, awaiting: bool) -> None:
        """Start the clock if a head is ``awaiting`` (and the clock is not running yet),
        stop it if not."""
        if awaiting:
            if self.head_timer is None:
                self.head_timer = self.loop.call_later(self.head_timeout, self.head_timed_out)
        elif self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_timed_out(self) -> None:
        """Close the connection: its head took too long."""
        self.head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


__all__ = ["HeadDeadline", "ServerProtocol", "error_bytes", "reject"]
