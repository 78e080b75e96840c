"""The httptools protocol's mark on heads it has proved within the limit.

The ASGI app skips counting a head the protocol marked (:data:`HEAD_WITHIN_LIMIT`), so a
mark on a head over the limit would let it through: whatever way the bytes arrive, a
marked head must fit. An app here records each request's scope and answers 204.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from sora_mock.server.asgi import HEAD_WITHIN_LIMIT, MAX_HEAD_BYTES, Receive, Scope, Send
from sora_mock.server.protocols import HttpName
from sora_mock.server.runner import ServerThread, base_url, bind
from tests.rawhttp import exchange, request


class Recorder:
    """An ASGI app that keeps every HTTP scope and answers 204."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.scopes.append(scope)
        message: dict[str, Any] = {"more_body": True}
        while message.get("more_body", False):
            message = dict(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await asyncio.sleep(0)


def _serve(http: HttpName) -> Iterator[tuple[str, Recorder]]:
    app = Recorder()
    sock = bind("127.0.0.1", 0)
    with ServerThread(app, [sock], f"recorder {http}", http=http):
        yield base_url(sock), app


@pytest.fixture(scope="module")
def httptools_server() -> Iterator[tuple[str, Recorder]]:
    yield from _serve("httptools")


@pytest.fixture(scope="module")
def h11_server() -> Iterator[tuple[str, Recorder]]:
    yield from _serve("h11")


def _marks(server: tuple[str, Recorder], data: bytes) -> list[bool]:
    """Send ``data`` on one connection; whether each request's scope came marked."""
    url, app = server
    app.scopes.clear()
    exchange(url, data)
    return [HEAD_WITHIN_LIMIT in scope for scope in app.scopes]


def _head_of(size: int, *, close: bool = True) -> bytes:
    """A bodiless request whose head is exactly ``size`` bytes."""
    base = request("GET", "/x", headers={"X-Pad": ""}, close=close)
    return request("GET", "/x", headers={"X-Pad": "p" * (size - len(base))}, close=close)


def test_a_usual_request_comes_marked(httptools_server: tuple[str, Recorder]) -> None:
    assert _marks(httptools_server, request("GET", "/x")) == [True]


def test_a_head_at_the_limit_comes_marked(httptools_server: tuple[str, Recorder]) -> None:
    assert len(_head_of(MAX_HEAD_BYTES)) == MAX_HEAD_BYTES
    assert _marks(httptools_server, _head_of(MAX_HEAD_BYTES)) == [True]


def test_a_head_over_the_limit_is_never_marked(httptools_server: tuple[str, Recorder]) -> None:
    # It arrives whole, so the protocol lets it through; the app must count it.
    assert _marks(httptools_server, _head_of(MAX_HEAD_BYTES + 1)) == [False]


def test_a_pipelined_head_over_the_limit_is_never_marked(
    httptools_server: tuple[str, Recorder],
) -> None:
    first = request("POST", "/x", body=b"b" * 20_000, close=False)
    small = _head_of(300, close=False)
    marks = _marks(httptools_server, first + small + _head_of(MAX_HEAD_BYTES + 1))
    assert len(marks) == 3
    assert marks[2] is False


def test_pipelined_usual_requests_come_marked(httptools_server: tuple[str, Recorder]) -> None:
    # However the server reads them, no read holds more than the three together.
    one = request("GET", "/x", close=False)
    assert _marks(httptools_server, one + one + request("GET", "/x")) == [True] * 3


def test_h11_marks_nothing(h11_server: tuple[str, Recorder]) -> None:
    assert _marks(h11_server, request("GET", "/x")) == [False]
