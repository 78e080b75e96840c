"""The HTTP door: a pure ASGI app that hands each request to the engine.

A request line plus headers over :data:`MAX_HEAD_BYTES` answers 431 before the body is read
(the server's protocols refuse a head that grows past the limit while still arriving, see
:mod:`sora_mock.server.protocols`; a head that arrives whole is measured here). Bodies are
read up to the configured limit, then the engine decides. A body over the limit is not read:
a ``Content-Length`` over it is answered at once, before any ``100 Continue``, and a chunked
body as soon as it passes it; either answer closes the connection, since the rest of the
body is still on its way. One log line per request goes to the ``sora_mock.requests``
logger (a :class:`~sora_mock.server.logs.RequestLine`: latency from the head's arrival to
the answer's last byte, the token masked, control characters escaped).

An answer whose writes a state file has not yet committed waits for the group commit of its
pass of the event loop (:mod:`sora_mock.server.commits`); when that commit fails it is
replaced by a 503 envelope, since nothing it wrote was kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

from sora_mock.contract import Request, Response
from sora_mock.engine import Engine
from sora_mock.server.callbacks import CallbackDispatcher
from sora_mock.server.commits import GroupCommit
from sora_mock.server.envelopes import MAX_HEAD_BYTES, protocol_error
from sora_mock.server.logs import REQUEST_FIELD, RequestLine, printable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("sora_mock.requests")

#: Added to an answer after which the connection closes (the body was not read).
_CLOSE = ("connection", "close")


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
        self.commits = GroupCommit(engine)
        self.callbacks = CallbackDispatcher(engine, commits=self.commits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        head = _Head.from_scope(scope)
        if head.size > MAX_HEAD_BYTES:
            # Answer without reading the body; closing keeps the stream in step.
            response = Response.json(431, protocol_error(431), (_CLOSE,))
            await _send_response(send, response)
            return
        limit = self.engine.config.max_body_bytes
        # Reading would invite (100 Continue) and wait for a body that is refused anyway.
        declared = head.declared_length()
        if declared is not None and declared > limit:
            body = None
        else:
            read = await _read_body(receive, limit)
            if not read.whole:
                return  # the client left mid-body: no answer can reach it, so nothing runs
            body = read.data
        request = _request_from_scope(scope, head.headers, body)
        try:
            response = (self.handler or self.engine.handle)(request)
        except Exception:
            # A bug must not cost the client its answer or the server its loop.
            log.exception("sora-mock failed on %s %s", request.method, printable(request.path))
            response = Response.json(500, protocol_error(500))
        response = await self.commits.kept(response)
        if body is None and response.header("connection") is None:
            response = replace(response, headers=(*response.headers, _CLOSE))
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        await _send_response(send, response)
        if self.log_requests and log.isEnabledFor(logging.INFO):
            line = RequestLine.of(request, response, time.perf_counter() - started)
            log.info("%s", line.text(), extra={REQUEST_FIELD: line})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            try:
                message = await receive()
            except asyncio.CancelledError:
                # A second Ctrl+C cancels every task before uvicorn sends the shutdown: the
                # process is ending, and uvicorn would print the cancellation as a traceback.
                return
            if message["type"] == "lifespan.startup":
                await self.callbacks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.callbacks.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


@dataclass(slots=True)
class _Head:
    """A request's headers, decoded (names in lower case, the last of repeats wins), and
    the bytes its request line and headers took on the wire (taking single spaces and CRLF
    line ends)."""

    headers: dict[str, str]
    size: int

    @classmethod
    def from_scope(cls, scope: Scope) -> _Head:
        """The head of an ASGI ``http`` scope, in one pass over its headers."""
        target = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        query = scope.get("query_string", b"")
        # "METHOD target?query HTTP/1.1\r\n", then "name: value\r\n" per header, then "\r\n".
        size = len(scope["method"]) + len(target) + (len(query) + 1 if query else 0) + 14
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4
            headers[name.decode("latin-1")] = value.decode("latin-1")
        return cls(headers, size)

    def declared_length(self) -> int | None:
        """The body's ``Content-Length`` (the server's parser has checked it is one number)."""
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None


def _request_from_scope(scope: Scope, headers: dict[str, str], body: bytes | None) -> Request:
    """The engine's request; ``body`` None means the body passed the limit (413)."""
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    base_url = f"{scope.get('scheme', 'http')}://{host}"
    query = scope.get("query_string", b"").decode("latin-1")
    peer = scope.get("client")
    client = peer[0] if peer else None
    method, path = scope["method"], scope["path"]
    return Request(method, path, query, headers, body or b"", base_url, client, body is None)


@dataclass(slots=True)
class _Body:
    """A request body as read: its bytes (None once past the limit) and whether the client
    stayed to send it all."""

    data: bytes | None
    whole: bool = True


async def _read_body(receive: Receive, limit: int) -> _Body:
    """The whole body, or no data as soon as it passes ``limit`` (the rest is left unread);
    not whole when the client disconnects first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _Body(None, whole=False)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _Body(None)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return _Body(b"".join(chunks))


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


def _start_message(response: Response) -> Message:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
    ]
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
