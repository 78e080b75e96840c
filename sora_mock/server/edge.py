"""What the server's protocols answer on their own: a malformed or oversized request head."""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Protocol

from uvicorn.server import ServerState

from sora_mock.server.asgi import protocol_error


class _Cycle(Protocol):
    @property
    def response_started(self) -> bool: ...


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
    """Answer ``status`` with the envelope (unless an answer has begun) and close."""
    transport = protocol.transport
    if transport.is_closing():
        return
    cycle = protocol.cycle
    # Mid-response, another status line would corrupt the stream: just close.
    if cycle is None or not cycle.response_started:
        transport.write(error_bytes(status, protocol.server_state.default_headers))
    transport.close()


__all__ = ["ServerProtocol", "error_bytes", "reject"]
