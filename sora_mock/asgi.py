"""The HTTP door: a pure ASGI app that hands each request to the engine.

Bodies are read up to the configured limit (a larger one answers 413 without being read
whole), then the engine decides. One log line per request goes to the ``sora_mock``
logger, with the token masked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sora_mock.engine import Engine
from sora_mock.journal import mask_token
from sora_mock.messages import Request, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("sora_mock.requests")


Handler = Callable[[Request], Response]


class MockApp:
    """ASGI application serving one :class:`Engine`.

    ``handler`` replaces ``engine.handle`` as the function each request goes to; the pytest
    plugin uses it to put a fresh per-test mock behind one long-lived server.
    """

    def __init__(
        self, engine: Engine, *, log_requests: bool = True, handler: Handler | None = None
    ) -> None:
        self.engine = engine
        self.log_requests = log_requests
        self.handler: Handler = handler or engine.handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body, too_large = await _read_body(receive, self.engine.config.max_body_bytes)
        request = _request_from_scope(scope, body, oversized=too_large)
        response = self.handler(request)
        await _send_response(send, response)
        if self.log_requests:
            _log(request, response)


def _request_from_scope(scope: Scope, body: bytes, *, oversized: bool) -> Request:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    host = next((v for k, v in headers if k.lower() == "host"), None)
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    client = scope.get("client")
    return Request.build(
        scope["method"],
        scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        base_url=f"{scope.get('scheme', 'http')}://{host}",
        client=client[0] if client else None,
        oversized=oversized,
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
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


async def _drain(receive: Receive, message: Message) -> None:
    # Read and drop the rest so the server can answer on a clean connection.
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _send_response(send: Send, response: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _log(request: Request, response: Response) -> None:
    token = request.headers.get("authorization", "").partition(" ")[2].strip() or None
    log.info(
        "%s %s%s -> %d (token %s, %d bytes)",
        request.method,
        request.path,
        f"?{request.query}" if request.query else "",
        response.status,
        mask_token(token) or "-",
        len(response.body),
    )
