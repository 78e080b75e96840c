"""The protocols' edge: the head limit (a head still arriving past it is refused, one that
arrived whole is left to the app), answers in order before a refusal, no smuggling through
ambiguous framing, and the head deadline.

An app here records each request's scope and answers 204, so whatever is refused, a
protocol refused; the other tests run sora-mock's own app.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sora_mock.contract.openapi import Contract
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.asgi import Receive, Scope, Send
from sora_mock.server.envelopes import MAX_HEAD_BYTES
from sora_mock.server.limits import ConnectionLimits
from sora_mock.server.protocols import HTTP_NAMES, HttpName, protocol_class
from sora_mock.server.runner import BackgroundServer, ServerThread, base_url, bind
from tests.rawhttp import RawResponse, address, exchange, request
from tests.server.wire import (
    CREATE_BODY,
    assert_refused,
    create_bytes,
    read_until_closed,
    send_and_read,
    split_responses,
)

PARSERS: list[HttpName] = ["h11", "httptools"]


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


def test_requests_before_a_malformed_head_are_answered_in_order_then_400(
    mock_server: BackgroundServer,
) -> None:
    before = len(mock_server.engine.store)
    malformed = b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n"
    raw, closed = send_and_read(mock_server.base_url, create_bytes() * 3 + malformed)
    answers = split_responses(raw)
    assert [answer.status for answer in answers] == [200, 200, 200, 400], raw[-400:]
    assert_refused(answers[-1])
    assert closed
    ids = [answer.json()["id"] for answer in answers[:3]]
    assert len(set(ids)) == 3
    assert len(mock_server.engine.store) == before + 3  # executed exactly what was answered


def test_a_head_past_the_limit_after_answered_requests_gets_its_431(
    mock_server: BackgroundServer,
) -> None:
    before = len(mock_server.engine.store)
    # The first 1,000 bytes come in a read that ends a message, so they are not counted.
    big = b"GET /x HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * (MAX_HEAD_BYTES + 2000)
    with socket.create_connection(address(mock_server.base_url), timeout=5) as sock:
        sock.sendall(create_bytes() * 2 + big[:1000])
        first = b""
        while first.count(b"HTTP/1.1 200") < 2:
            chunk = sock.recv(65536)
            assert chunk, first
            first += chunk
        sock.sendall(big[1000:])
        rest, closed = read_until_closed(sock, 5)
    answers = split_responses(first + rest)
    assert [answer.status for answer in answers] == [200, 200, 431]
    assert answers[-1].json()["error"]["code"] == "request_headers_too_large"
    assert closed
    assert len(mock_server.engine.store) == before + 2


def _chunked_create(chunks: bytes) -> bytes:
    return (
        create_bytes(body=b"")
        .replace(b"Content-Length: 0\r\n", b"Transfer-Encoding: chunked\r\n")
        .removesuffix(b"\r\n")
        + b"\r\n"
        + chunks
    )


def test_a_request_whose_body_is_malformed_does_not_run(mock_server: BackgroundServer) -> None:
    before = len(mock_server.engine.store)
    # A whole JSON body in its first chunk, then a broken chunk header.
    broken = _chunked_create(b"%x\r\n" % len(CREATE_BODY) + CREATE_BODY + b"\r\nZZ\r\n")
    raw, closed = send_and_read(mock_server.base_url, create_bytes() * 2 + broken)
    answers = split_responses(raw)
    assert [answer.status for answer in answers] == [200, 200, 400], raw[-400:]
    assert_refused(answers[-1])
    assert closed
    assert len(mock_server.engine.store) == before + 2


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: {n}\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
    ],
    ids=["length-first", "encoding-first", "length-zero"],
)
def test_content_length_with_transfer_encoding_is_refused(
    mock_server: BackgroundServer, framing: bytes
) -> None:
    # Read as chunked, the body ends at once and hides a second request (RFC 9112 §6.3).
    hidden = b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + hidden
    head = b"POST /__mock/health HTTP/1.1\r\nHost: x\r\n" + framing.replace(
        b"{n}", str(len(body)).encode()
    )
    raw, closed = send_and_read(mock_server.base_url, head + b"\r\n" + body)
    answers = split_responses(raw)
    assert [answer.status for answer in answers] == [400], raw
    assert_refused(answers[0])
    assert closed


@pytest.mark.parametrize("http", PARSERS)
@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n", create_bytes() + b"POST /v1/"],
    ids=["nothing", "half-a-head", "a-request-then-half-a-head"],
)
def test_a_head_not_complete_in_time_closes_the_connection(http: HttpName, sent: bytes) -> None:
    engine = Engine(contract=Contract.bundled(), clock=VirtualClock(), seed=7)
    with (
        BackgroundServer(engine, http=http, limits=ConnectionLimits(head_timeout=0.2)) as server,
        socket.create_connection(address(server.base_url), timeout=5) as sock,
    ):
        started = time.monotonic()
        sock.sendall(sent)
        raw, closed = read_until_closed(sock, 5)
        elapsed = time.monotonic() - started
    assert closed, "the connection stayed open"
    assert 0.15 < elapsed < 3, elapsed
    assert [answer.status for answer in split_responses(raw)] == [200] * sent.count(
        b"POST /v1/videos"
    )


@pytest.mark.parametrize("http", PARSERS)
def test_the_head_deadline_spares_a_connection_between_requests(http: HttpName) -> None:
    engine = Engine(contract=Contract.bundled(), clock=VirtualClock(), seed=7)
    with (
        BackgroundServer(engine, http=http, limits=ConnectionLimits(head_timeout=0.2)) as server,
        socket.create_connection(address(server.base_url), timeout=5) as sock,
    ):
        sock.sendall(create_bytes())
        first, closed = read_until_closed(sock, 1.0)  # three head deadlines: still open
        assert not closed
        sock.sendall(create_bytes(close=True))
        second, closed = read_until_closed(sock, 5)
    assert closed
    assert [answer.status for answer in split_responses(first + second)] == [200, 200]
