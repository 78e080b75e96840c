"""A bad-input campaign against the real server (uvicorn on loopback, raw sockets and httpx).

Whatever arrives, the server answers with a 4xx error envelope or closes the connection
cleanly: never a 5xx, never a stack trace, never a header built from the client's input,
and it keeps serving everyone else. Request heads over 16 KiB answer 431.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest

from sora_mock.server.envelopes import MAX_HEAD_BYTES
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY, auth
from tests.rawhttp import RawResponse, address, exchange, request

#: Every header the mock may send; anything else would come from the client's input.
KNOWN_HEADERS = {
    "date",
    "content-type",
    "content-length",
    "x-request-id",
    "allow",
    "retry-after",
    "connection",
    "cache-control",
}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(mock_server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_server.base_url, timeout=10) as http:
        yield http


@pytest.fixture(autouse=True)
def _still_serving(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After every case: no error was logged, and a normal client still gets its task."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    created = client.post(CREATE_PATH, json=VALID_BODY, headers=auth())
    assert created.status_code == 200, created.text
    polled = client.get(f"/v1/tasks/{created.json()['id']}", headers=auth())
    assert polled.status_code == 200


def assert_clean(response: RawResponse | httpx.Response, *statuses: int) -> None:
    """A 4xx envelope (one of ``statuses`` if given), or a connection closed with no answer."""
    if isinstance(response, RawResponse):
        if response.status is None:
            assert response.raw == b"" or response.reset, response.raw[:200]
            return
        status, headers, body = response.status, response.headers, response.body
    else:
        status, headers, body = response.status_code, dict(response.headers), response.content
    assert 400 <= status < 500, (status, body[:300])
    if statuses:
        assert status in statuses, (status, body[:300])
    assert set(headers) <= KNOWN_HEADERS, headers
    assert b"Traceback" not in body
    assert headers.get("content-type") == "application/json", headers
    error = json.loads(body)["error"]
    assert {"code", "message", "type"} <= set(error)
    assert all(isinstance(error[k], str) and error[k] for k in ("code", "message", "type"))


# -- malformed bodies ---------------------------------------------------------------------

BAD_BODIES = {
    "empty": b"",
    "truncated": b'{"model": "sora-character", "video_url": "https://exa',
    "nested arrays": b"[" * 100_000,
    "nested objects": b'{"a":' * 50_000,
    "huge integer": b'{"model": "sora-character", "n": ' + b"9" * 100_000 + b"}",
    "huge exponent": b'{"model": "sora-character", "video_url": 1e999999}',
    "NaN": b'{"model": NaN}',
    "invalid utf-8": b'{"model": "sora-\xff\xfe"}',
    "utf-16": json.dumps(VALID_BODY).encode("utf-16"),
    "byte order mark": b"\xef\xbb\xbf" + json.dumps(VALID_BODY).encode(),
    "duplicate keys": b'{"model": "sora-character", "model": "sora-character"}',
    "raw NUL": b"\x00" * 64,
    "NUL in a value": json.dumps({**VALID_BODY, "video_url": "https://e.com/v\x00.mp4"}).encode(),
    "not an object": b'["sora-character"]',
    "binary": bytes(range(256)) * 8,
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_json_bodies_get_400(client: httpx.Client, body: bytes) -> None:
    response = client.post(CREATE_PATH, content=body, headers=JSON_AUTH)
    assert_clean(response, 400)
    assert response.json()["error"]["code"] == "invalid_request"


def test_oversized_chunked_body_gets_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65_536  # 2.5 MiB in all, no Content-Length

    response = client.post(CREATE_PATH, content=chunks(), headers=JSON_AUTH)
    assert_clean(response, 413)
    assert response.headers["connection"] == "close"  # answered once past the limit, unread


def test_body_shorter_than_its_content_length_is_closed_cleanly(
    mock_server: BackgroundServer,
) -> None:
    head = request("POST", CREATE_PATH, headers={**JSON_AUTH, "Content-Length": "10000000"})
    assert_clean(exchange(mock_server.base_url, head + b'{"model":', shut_write=True))


# -- oversized and malformed heads ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        request("GET", "/__mock/health", headers={"X-Big": "a" * (MAX_HEAD_BYTES + 100)}),
        request("GET", "/__mock/health", headers={f"X-H{i}": "b" * 500 for i in range(40)}),
        request("GET", "/v1/tasks/" + "c" * (MAX_HEAD_BYTES + 10), headers=AUTH),
        request("GET", "/__mock/health?q=" + "d" * (MAX_HEAD_BYTES + 10)),
        request("POST", CREATE_PATH, headers={**JSON_AUTH, "X-Big": "e" * 40_000}, body=b"{}"),
    ],
    ids=["one big header", "many headers", "long path", "long query", "with a body"],
)
def test_oversized_heads_get_431(mock_server: BackgroundServer, raw: bytes) -> None:
    response = exchange(mock_server.base_url, raw)
    assert response.status == 431, response.raw[:300]
    assert_clean(response, 431)
    assert response.json()["error"]["code"] == "request_headers_too_large"
    assert response.headers["connection"] == "close"


def test_a_head_that_trickles_past_the_limit_gets_431(mock_server: BackgroundServer) -> None:
    part = b"X-Part: " + b"f" * 10_000 + b"\r\n"
    with socket.create_connection(address(mock_server.base_url), timeout=5) as slow:
        slow.sendall(b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n" + part)
        # A full exchange on another connection: by the time it is answered, the server has
        # read the slow client's first part too, so the next part arrives on its own.
        assert httpx.get(f"{mock_server.base_url}/__mock/health").status_code == 200
        slow.sendall(part)
        answer = RawResponse(_read_all(slow))
    assert answer.status == 431, answer.raw[:300]
    assert_clean(answer, 431)


@pytest.mark.parametrize("query", ["", "?q=1"])
def test_the_limit_counts_every_byte_of_the_head(mock_server: BackgroundServer, query: str) -> None:
    def head_of(size: int) -> bytes:
        base = request("GET", "/__mock/health" + query, headers={"X-Pad": ""})
        pad = "p" * (size - len(base))
        return request("GET", "/__mock/health" + query, headers={"X-Pad": pad})

    assert len(head_of(MAX_HEAD_BYTES)) == MAX_HEAD_BYTES
    assert exchange(mock_server.base_url, head_of(MAX_HEAD_BYTES)).status == 200
    over = exchange(mock_server.base_url, head_of(MAX_HEAD_BYTES + 1))
    assert over.status == 431, over.raw[:300]
    assert_clean(over, 431)


def test_a_head_just_under_the_limit_is_served(mock_server: BackgroundServer) -> None:
    response = exchange(
        mock_server.base_url, request("GET", "/__mock/health", headers={"X-Big": "g" * 12_000})
    )
    assert response.status == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /__mock/health HTTP/1.1 junk\r\nHost: x\r\n\r\n",
        b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
        b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nX-A: \x00\r\n\r\n",
        b"GET /v1/tasks/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Content-Length: 7\r\n\r\n{}",
        b"POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Authorization: Bearer sk-test-0123456789\r\nContent-Type: application/json\r\n\r\n"
        b"zz\r\nnot hex\r\n0\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),  # a TLS ClientHello
    ],
    ids=[
        "request line",
        "junk after version",
        "header name",
        "bare CR",
        "NUL in header",
        "non-ascii target",
        "two lengths",
        "negative length",
        "bad chunk",
        "TLS",
    ],
)
def test_protocol_errors_get_an_envelope_or_a_clean_close(
    mock_server: BackgroundServer, raw: bytes
) -> None:
    response = exchange(mock_server.base_url, raw, shut_write=True)
    assert_clean(response)
    if response.status is not None:
        assert response.headers["connection"] == "close"


# -- slow, idle and half-closed connections -------------------------------------------------


def test_a_slow_client_does_not_hold_up_others(mock_server: BackgroundServer) -> None:
    raw = request("GET", "/__mock/health")
    with (
        socket.create_connection(address(mock_server.base_url), timeout=5) as slow,
        socket.create_connection(address(mock_server.base_url), timeout=5),  # idle, says nothing
    ):
        slow.sendall(raw[:20])
        for _ in range(5):  # others are served while the slow head is incomplete
            assert httpx.get(f"{mock_server.base_url}/__mock/health").status_code == 200
        slow.sendall(raw[20:])
        answer = RawResponse(_read_all(slow))
    assert answer.status == 200


def test_a_request_then_half_close_still_gets_its_answer(mock_server: BackgroundServer) -> None:
    body = json.dumps(VALID_BODY).encode()
    raw = request("POST", CREATE_PATH, headers=JSON_AUTH, body=body)
    response = exchange(mock_server.base_url, raw, shut_write=True)
    assert response.status == 200
    assert response.json()["status"] == "pending"


def test_a_client_that_vanishes_mid_body_is_forgotten(mock_server: BackgroundServer) -> None:
    head = request("POST", CREATE_PATH, headers={**JSON_AUTH, "Content-Length": "500"})
    with socket.create_connection(address(mock_server.base_url), timeout=5) as gone:
        gone.sendall(head + b'{"model": "sora')
        gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    # closed with a reset; the autouse check proves the server carries on


# -- odd task ids and injection attempts ----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/v1/tasks/../../etc/passwd",
        "/v1/tasks/..%2F..%2Fetc%2Fpasswd",
        "/v1/tasks/%2e%2e/%2e%2e/etc/passwd",
        "/v1/tasks/task-unified-1-abcdefgh/../../x",
        "/v1/tasks/%00",
        "/v1/tasks/task-unified-1-%00abcdefg",
        "/v1/tasks/task-unified-1-%E2%80%AEabcdefg",
        "/v1/tasks/task-unified-%F0%9F%92%A5-abcdefgh",
        "/v1/tasks/%FF%FE",
        "/v1/tasks/" + "%41" * 2000,
        "/__mock/files/../../etc/passwd/profile.png",
        "/__mock/files/%2e%2e%2f%2e%2e%2fetc/profile.png",
        "//v1/tasks/x",
        "/v1/tasks/",
        "*",
    ],
)
def test_odd_task_ids_get_an_envelope(mock_server: BackgroundServer, target: str) -> None:
    response = exchange(mock_server.base_url, request("GET", target, headers=AUTH))
    assert_clean(response, 400, 404)


@pytest.mark.parametrize(
    "target",
    [
        "/v1/tasks/x%0d%0aSet-Cookie:%20evil=1",
        "/v1/tasks/task-unified-1-abcdefgh%0d%0aX-Evil:%201",
        "/v1/tasks/x?q=%0d%0aSet-Cookie:%20evil=1",
        "/v1/videos/generations%0d%0aX-Evil:%201",
        "/__mock/health%0aX-Evil:1",
        "/__mock/files/x%0d%0aX-Evil:1/profile.png",
    ],
)
def test_crlf_in_the_target_never_becomes_a_header(
    mock_server: BackgroundServer, target: str
) -> None:
    response = exchange(mock_server.base_url, request("GET", target, headers=AUTH))
    assert_clean(response)
    head = response.raw.partition(b"\r\n\r\n")[0].lower()
    assert b"evil" not in head
    assert b"set-cookie" not in head


@pytest.mark.parametrize(
    ("field", "status"),
    [
        ("model", 400),
        ("video_url", 400),
        ("timestamps", 400),
        ("callback_url", 400),
        ("\r\nx-evil", 200),  # the contract lets unknown fields through, never echoed
    ],
)
def test_crlf_in_body_values_stays_in_the_json(
    client: httpx.Client, field: str, status: int
) -> None:
    response = client.post(
        CREATE_PATH,
        json={**VALID_BODY, field: "x\r\nSet-Cookie: evil=1\r\n\r\n<html>"},
        headers=auth(),
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert_clean(response, 400)
    assert set(response.headers) <= KNOWN_HEADERS
    assert not any("evil" in v for v in response.headers.values())


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer sk-a%0d%0aX-Evil: 1",
        "Bearer sk-\x7fdel",
        "Bearer " + "é" * 40,
        "Bearer sk-ok\tsk-two",
        "Bearer " + "k" * 100_00,
    ],
)
def test_hostile_tokens_get_401(mock_server: BackgroundServer, authorization: str) -> None:
    # httptools (the `fast` extra) already refuses control characters with a 400.
    raw = request(
        "GET", "/v1/tasks/task-unified-1-abcdefgh", headers={"Authorization": authorization}
    )
    response = exchange(mock_server.base_url, raw)
    assert_clean(response, 400, 401)


def test_unknown_methods_get_405_without_echoing_headers(mock_server: BackgroundServer) -> None:
    for method in ("FOO", "TRACE", "PROPFIND", "DELETE"):
        response = exchange(mock_server.base_url, request(method, CREATE_PATH, headers=AUTH))
        # httptools refuses methods it does not know (FOO) with a 400 before routing.
        assert_clean(response, 400, 405)
        if response.status == 405:
            assert response.headers["allow"] == "POST"


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received
