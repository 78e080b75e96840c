"""The HTTP door: a pure ASGI app that hands each request to the engine.

Bodies are read up to the configured limit (a larger one answers 413 without being read
whole), then the engine decides. A request line plus headers over :data:`MAX_HEAD_BYTES`
answers 431 before the engine sees it (:mod:`sora_mock.server.protocols` enforces the same limit
while a head is still arriving, and marks the heads it has proved within it, which the app
then need not count). One log line per request goes to the ``sora_mock`` logger, with the
token masked and control characters escaped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sora_mock.contract import JSON_CONTENT, Request, Response
from sora_mock.engine import Engine, mask_token
from sora_mock.server.callbacks import CallbackDispatcher

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("sora_mock.requests")

#: The most bytes a request line plus headers may take; larger heads answer 431.
MAX_HEAD_BYTES = 16 * 1024
#: Scope key a server protocol sets (to True) when it has proved the request's head within
#: :data:`MAX_HEAD_BYTES` from the bytes it read; the app counts any other head itself.
HEAD_WITHIN_LIMIT = "sora_mock.head_within_limit"

_PROTOCOL_ERRORS = {
    400: ("invalid_request", "Malformed HTTP request"),
    431: (
        "request_headers_too_large",
        f"Request line and headers too large: the limit is {MAX_HEAD_BYTES} bytes",
    ),
    500: ("internal_error", "Internal server error"),
}


def protocol_error(status: int) -> dict[str, Any]:
    """The error envelope the door itself answers with (400, 431 or 500)."""
    code, message = _PROTOCOL_ERRORS[status]
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return {"error": {"code": code, "message": message, "type": kind}}


Handler = Callable[[Request], Response]


class MockApp:
    """ASGI application serving one :class:`Engine`; it also delivers task callbacks.

    ``handler`` replaces ``engine.handle`` as the function each request goes to; the pytest
    plugin uses it to put a fresh per-test mock behind one long-lived server.
    """

    def __init__(
        self, engine: Engine, *, log_requests: bool = True, handler: Handler | None = None
    ) -> None:
        self.engine = engine
        self.log_requests = log_requests
        self.handler = handler
        self.callbacks = CallbackDispatcher(engine)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        if HEAD_WITHIN_LIMIT not in scope and _head_size(scope) > MAX_HEAD_BYTES:
            # Answer without reading the body; closing keeps the stream in step.
            response = Response.json(431, protocol_error(431), (("connection", "close"),))
            await _send_response(send, response)
            return
        limit = self.engine.config.max_body_bytes
        message = await receive()
        body: bytes = message.get("body", b"")
        too_large = False
        if message.get("more_body", False) or len(body) > limit:
            body, too_large = await _read_body(receive, message, limit)
        request = _request_from_scope(scope, body, too_large)
        try:
            response = (self.handler or self.engine.handle)(request)
        except Exception:
            # A bug must not cost the client its answer or the server its loop.
            log.exception("sora-mock failed on %s %s", request.method, _printable(request.path))
            response = Response.json(500, protocol_error(500))
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        if response.fault is None:  # the usual answer, without a coroutine for it
            await send(_start_message(response))
            await send({"type": "http.response.body", "body": response.body})
        else:
            await _send_response(send, response)
        if self.log_requests:
            _log(request, response)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.callbacks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.callbacks.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


#: Header names as received, already decoded and folded (clients send the same few).
_HEADER_NAMES: dict[bytes, str] = {}


def _head_size(scope: Scope) -> int:
    """The size of the request line and headers as they came on the wire (near enough:
    single spaces, CRLF line ends)."""
    target = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    size = len(scope["method"]) + len(target) + len(scope.get("query_string", b"")) + 12
    for name, value in scope.get("headers", ()):
        size += len(name) + len(value) + 4
    return size


def _request_from_scope(scope: Scope, body: bytes, oversized: bool) -> Request:
    # Built directly rather than through Request.build: this runs on every request, and
    # ASGI already gives an upper-case method. Header names are folded here, through a
    # table of the names seen (clients send the same few); the last of repeats wins.
    headers = {}
    for name, value in scope.get("headers", ()):
        text = _HEADER_NAMES.get(name)
        if text is None:
            text = name.decode("latin-1").lower()
            if len(_HEADER_NAMES) < 256:  # the usual names; odd ones are not remembered
                _HEADER_NAMES[name] = text
        headers[text] = value.decode("latin-1")
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    client = scope.get("client")
    query = scope.get("query_string")
    return Request(
        scope["method"],
        scope["path"],
        query.decode("latin-1") if query else "",
        headers,
        body,
        f"{scope.get('scheme', 'http')}://{host}",
        client[0] if client else None,
        oversized,
    )


async def _read_body(receive: Receive, first: Message, limit: int) -> tuple[bytes, bool]:
    """The whole body, given its ``first`` message; ``(b"", True)`` once past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    message = first
    while True:
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _drain(receive, message)
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        message = await receive()


async def _drain(receive: Receive, message: Message) -> None:
    # Read and drop the rest so the server can answer on a clean connection.
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _send_response(send: Send, response: Response) -> None:
    """Send ``response``, carrying out its fault if it has one."""
    if response.fault == "drop_connection" and _close_connection(send):
        return
    await send(_start_message(response))
    if response.fault in ("truncated_body", "drop_connection"):
        # Half the promised bytes, then the connection closes: the client sees a short body.
        await send(
            {
                "type": "http.response.body",
                "body": response.body[: len(response.body) // 2],
                "more_body": True,
            }
        )
        if not _close_connection(send):
            raise ConnectionAbortedError("sora-mock fault: truncated body")
        return
    await send({"type": "http.response.body", "body": response.body})


#: The JSON content type as uvicorn takes it, encoded once.
_JSON_CONTENT_BYTES = (JSON_CONTENT[0].encode("latin-1"), JSON_CONTENT[1].encode("latin-1"))


def _start_message(response: Response) -> Message:
    headers = []
    for header in response.headers:  # a loop: a comprehension costs a frame more
        if header is JSON_CONTENT:  # nearly every answer's: already encoded
            headers.append(_JSON_CONTENT_BYTES)
        else:
            headers.append((header[0].encode("latin-1"), header[1].encode("latin-1")))
    headers.append((b"content-length", b"%d" % len(response.body)))
    return {"type": "http.response.start", "status": response.status, "headers": headers}


def _close_connection(send: Send) -> bool:
    """Close the client connection under the server's feet, if the server lets us reach it.

    ASGI has no "close without answering"; uvicorn's ``send`` is a bound method of the
    request cycle, whose ``transport`` is the connection. Elsewhere this returns False and
    the caller falls back to a truncated answer.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "close"):
        return False
    transport.close()
    return True


def _log(request: Request, response: Response) -> None:
    token = request.headers.get("authorization", "").partition(" ")[2].strip() or None
    log.info(
        "%s %s%s -> %d (token %s, %d bytes)",
        _printable(request.method),
        _printable(request.path),
        f"?{_printable(request.query)}" if request.query else "",
        response.status,
        _printable(mask_token(token) or "-"),
        len(response.body),
    )


def _printable(text: str) -> str:
    # A decoded path may hold CR, LF or escape codes; a log line must stay one line.
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
