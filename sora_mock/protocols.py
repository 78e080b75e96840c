"""uvicorn's HTTP/1.1 protocols with sora-mock's head limit and JSON error envelopes.

Out of the box uvicorn answers a request it cannot parse with a plain-text 400, and has no
consistent limit on the request head: h11 caps only a head still incomplete in its buffer
(a large head that arrives in one read passes), httptools has no cap at all. These
subclasses make the edge of the server behave like the rest of the mock:

- a request line plus headers over :data:`~sora_mock.asgi.MAX_HEAD_BYTES` (16 KiB) answers
  ``431`` with the error envelope, whether it trickles in or arrives at once (the ASGI app
  checks heads that the parser accepted whole);
- any other malformed request (bad request line, invalid header, bad chunked encoding)
  answers ``400`` with the error envelope instead of plain text;

and then close the connection, since the byte stream can no longer be trusted.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from functools import cache
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol as _H11Protocol

from sora_mock.asgi import MAX_HEAD_BYTES, protocol_error


def protocol_class() -> type[asyncio.Protocol]:
    """The httptools-based protocol when httptools is installed (``fast`` extra), else h11's."""
    if importlib.util.find_spec("httptools") is None:
        return H11Protocol
    return _httptools_protocol()


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


def _reject(protocol: Any, status: int) -> None:
    transport: asyncio.Transport = protocol.transport
    if transport.is_closing():
        return
    cycle = protocol.cycle
    # Mid-response, another status line would corrupt the stream: just close.
    if cycle is None or not cycle.response_started:
        transport.write(error_bytes(status, protocol.server_state.default_headers))
    transport.close()


class H11Protocol(_H11Protocol):
    """uvicorn's h11 protocol answering parse errors with the envelope (431 for big heads)."""

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 refused; uvicorn calls this inside its ``except`` block."""
        error = sys.exception()
        # h11 hints 431 exactly when the buffered head outgrew max_incomplete_event_size.
        status = 431 if getattr(error, "error_status_hint", 400) == 431 else 400
        _reject(self, status)


@cache
def _httptools_protocol() -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol

    class HttpToolsProtocol(_HttpToolsProtocol):
        """uvicorn's httptools protocol with a head limit and envelope parse errors."""

        _reading_head = True
        _head_bytes = 0
        _boundary = False

        def data_received(self, data: bytes) -> None:
            self._boundary = False
            super().data_received(data)
            # Count what arrived while a head stays incomplete: this bounds the memory
            # httptools spends on a head that never ends. A read in which a head ended or
            # a message completed holds other bytes (a body) too, so it does not count.
            if self._boundary or not self._reading_head or self.transport.is_closing():
                if self._boundary:
                    self._head_bytes = 0
                return
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                _reject(self, 431)

        def on_headers_complete(self) -> None:
            self._reading_head = False
            self._boundary = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_head = True
            self._boundary = True

        def send_400_response(self, msg: str) -> None:
            _reject(self, 400)

    return HttpToolsProtocol


__all__ = ["H11Protocol", "error_bytes", "protocol_class"]
