"""The protocols' part of the head limit: they refuse a head still arriving past it, and
leave a head that arrived whole to the app.

An app here records each request's scope and answers 204, so whatever is refused, a
protocol refused.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sora_mock.server.asgi import MAX_HEAD_BYTES, Receive, Scope, Send
from sora_mock.server.protocols import HTTP_NAMES, HttpName, protocol_class
from sora_mock.server.runner import ServerThread, base_url, bind
from tests.rawhttp import RawResponse, address, exchange, request


class Recorder:
    """An ASGI app that keeps every HTTP scope and answers 204."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.scopes.append(scope)
        more: Any = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await asyncio.sleep(0)


@pytest.fixture(scope="module", params=["h11", "httptools"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Recorder]]:
    http: HttpName = request.param
    app = Recorder()
    sock = bind("127.0.0.1", 0)
    with ServerThread(app, [sock], f"recorder {http}", http=http):
        yield base_url(sock), app


def _head_of(size: int, *, close: bool = True) -> bytes:
    """A bodiless request whose head is exactly ``size`` bytes."""
    base = request("GET", "/x", headers={"X-Pad": ""}, close=close)
    return request("GET", "/x", headers={"X-Pad": "p" * (size - len(base))}, close=close)


def _until_head_end(sock: socket.socket) -> bytes:
    """Read one bodiless response."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    return received


def _until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("name", HTTP_NAMES)
def test_each_protocol_class_pickles_by_reference(name: HttpName) -> None:
    # ``serve --workers N`` hands the class to its worker processes by pickle.
    cls = protocol_class(name)
    assert pickle.loads(pickle.dumps(cls)) is cls


def test_a_head_still_arriving_past_the_limit_is_refused(server: tuple[str, Recorder]) -> None:
    url, app = server
    app.scopes.clear()
    part = b"X-Part: " + b"f" * 10_000 + b"\r\n"
    with socket.create_connection(address(url), timeout=5) as slow:
        slow.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n" + part)
        # Another full exchange first: by then the server has read the first part.
        assert exchange(url, request("GET", "/y")).status == 204
        slow.sendall(part)
        answer = RawResponse(_until_closed(slow))
    assert answer.status == 431, answer.raw[:300]
    assert answer.json()["error"]["code"] == "request_headers_too_large"
    assert answer.headers["connection"] == "close"
    assert [scope["path"] for scope in app.scopes] == ["/y"]


def test_a_head_that_arrived_whole_is_left_to_the_app(server: tuple[str, Recorder]) -> None:
    url, app = server
    app.scopes.clear()
    assert len(_head_of(MAX_HEAD_BYTES + 1)) == MAX_HEAD_BYTES + 1
    assert exchange(url, _head_of(MAX_HEAD_BYTES + 1)).status == 204
    assert len(app.scopes) == 1


def test_a_read_that_ends_a_message_is_not_counted_as_the_next_head(
    server: tuple[str, Recorder],
) -> None:
    # The first read holds a whole request with a large body and most of the next head:
    # together they are past the limit, but the head alone is not.
    url, app = server
    app.scopes.clear()
    first = request("POST", "/x", body=b"b" * 20_000, close=False)
    second = _head_of(MAX_HEAD_BYTES - 400)
    with socket.create_connection(address(url), timeout=5) as sock:
        sock.sendall(first + second[:10_000])
        assert RawResponse(_until_head_end(sock)).status == 204
        sock.sendall(second[10_000:])
        assert RawResponse(_until_closed(sock)).status == 204
    assert len(app.scopes) == 2


def test_pipelined_requests_all_reach_the_app(server: tuple[str, Recorder]) -> None:
    url, app = server
    app.scopes.clear()
    one = request("GET", "/x", close=False)
    exchange(
        url, request("POST", "/x", body=b"b" * 20_000, close=False) + one + one + _head_of(300)
    )
    assert len(app.scopes) == 4
