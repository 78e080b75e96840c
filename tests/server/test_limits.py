"""The limits a running server keeps: an early 413, idle keep-alive connections closed, and a
cap on open connections."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx
import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.limits import ConnectionLimits, default_max_connections
from sora_mock.server.protocols import HttpName
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth
from tests.rawhttp import RawResponse, address, request
from tests.server.wire import read_until_closed

HTTP: list[HttpName] = ["h11", "httptools"]


def _served(http: HttpName, limits: ConnectionLimits | None = None) -> BackgroundServer:
    return BackgroundServer(Engine(clock=VirtualClock(), seed=5), http=http, limits=limits)


def _read_response(sock: socket.socket) -> RawResponse:
    """One response with a Content-Length, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    response = RawResponse(received)
    length = int(response.headers["content-length"])
    while len(response.body) < length:
        received += sock.recv(65536)
        response = RawResponse(received)
    return response


# -- 4. a declared body over the limit answers 413 before it is read --------------------------


@pytest.mark.parametrize("expect", [True, False], ids=["expect 100-continue", "no expect"])
def test_a_content_length_over_the_limit_answers_413_at_once(
    mock_server: BackgroundServer, expect: bool
) -> None:
    headers = {**auth(), "Content-Length": "2147483648"}
    if expect:
        headers["Expect"] = "100-continue"
    head = request("POST", CREATE_PATH, headers=headers, close=False)
    with socket.create_connection(address(mock_server.base_url), timeout=5) as sock:
        sock.sendall(head if expect else head + b'{"model": "sora-character", "pad": "')
        raw, closed = read_until_closed(sock, 5)
    assert not raw.startswith(b"HTTP/1.1 100"), raw[:200]
    answer = RawResponse(raw)
    assert answer.status == 413, raw[:300]
    assert answer.json()["error"]["code"] == "request_too_large"
    assert answer.headers["connection"] == "close"
    assert closed, "the connection stays open after the 413"


def test_a_content_length_within_the_limit_is_still_invited(mock_server: BackgroundServer) -> None:
    body = json.dumps(VALID_BODY).encode()
    headers = {**auth(), "Content-Length": str(len(body)), "Expect": "100-continue"}
    with socket.create_connection(address(mock_server.base_url), timeout=5) as sock:
        sock.sendall(request("POST", CREATE_PATH, headers=headers))
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        raw, _ = read_until_closed(sock, 5)
    tail = (interim + raw).split(b"\r\n\r\n", 1)[1]
    assert RawResponse(tail).status == 200, tail[:300]


# -- 6. idle keep-alive connections are closed --------------------------------------------------


@pytest.mark.parametrize("http", HTTP)
def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(http: HttpName) -> None:
    with (
        _served(http, ConnectionLimits(keep_alive=1)) as running,
        socket.create_connection(address(running.base_url), timeout=5) as sock,
    ):
        sock.sendall(request("GET", "/__mock/health", close=False))
        assert _read_response(sock).status == 200
        answered = time.monotonic()
        rest, closed = read_until_closed(sock, answered + 5 - time.monotonic())
        assert closed, "the idle connection is still open"
        assert rest == b""
        assert time.monotonic() - answered >= 0.5


# -- 6. a cap on open connections --------------------------------------------------------------


@pytest.mark.parametrize("http", HTTP)
def test_connections_over_the_cap_get_503_and_others_are_served_when_one_frees(
    http: HttpName,
) -> None:
    with _served(http, ConnectionLimits(max_connections=3, keep_alive=60)) as running:
        held = [socket.create_connection(address(running.base_url), timeout=5) for _ in range(3)]
        try:
            for sock in held:  # answered, so the server holds each one open
                sock.sendall(request("GET", "/__mock/health", close=False))
                assert _read_response(sock).status == 200
            for _ in range(5):
                with socket.create_connection(address(running.base_url), timeout=5) as excess:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        excess.sendall(request("GET", "/__mock/health"))
                    raw, closed = read_until_closed(excess, 5)
                assert closed
                answer = RawResponse(raw)
                assert answer.status == 503, raw[:300]
                assert answer.headers["connection"] == "close"
                assert answer.headers["content-type"] == "application/json"
                assert answer.json()["error"]["code"] == "service_unavailable"
            # A client on a held connection is still served.
            held[0].sendall(request("GET", "/__mock/health", close=False))
            assert _read_response(held[0]).status == 200
            held.pop().close()
            deadline = time.monotonic() + 5
            while True:  # the server learns of the close asynchronously
                status = httpx.get(f"{running.base_url}/__mock/health").status_code
                if status == 200 or time.monotonic() > deadline:
                    break
            assert status == 200
        finally:
            for sock in held:
                sock.close()


def test_the_default_cap_leaves_a_reserve_below_the_file_limit() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = default_max_connections()
    assert 0 < cap < soft
    assert ConnectionLimits().max_connections is None  # derived when the server starts
