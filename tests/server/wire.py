"""Raw requests to a sora-mock server and the answers they get, for the protocol tests."""

from __future__ import annotations

import contextlib
import json
import socket
import time

from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY
from tests.rawhttp import RawResponse, address

#: A valid create's body.
CREATE_BODY = json.dumps(VALID_BODY).encode()


def create_bytes(*, close: bool = False, body: bytes = CREATE_BODY) -> bytes:
    """A valid create (``Connection: close`` if asked)."""
    head = (
        f"POST {CREATE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


def poll_bytes(task_id: str, *, close: bool = True) -> bytes:
    """A status read of ``task_id``."""
    head = (
        f"GET /v1/tasks/{task_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
    )
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def split_responses(raw: bytes) -> list[RawResponse]:
    """The responses in ``raw``, each framed by its ``Content-Length``."""
    found: list[RawResponse] = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        response = RawResponse(head + b"\r\n\r\n")
        length = int(response.headers.get("content-length", "0"))
        found.append(RawResponse(head + b"\r\n\r\n" + rest[:length]))
        raw = rest[length:]
    return found


def assert_refused(answer: RawResponse) -> None:
    """``answer`` is the 400 envelope of a malformed request, closing the connection."""
    assert answer.status == 400, answer.raw[:300]
    assert answer.json()["error"]["code"] == "invalid_request"
    assert answer.headers["connection"] == "close"


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, bool]:
    """What ``sock`` receives until the server closes it, and whether it did within
    ``within`` seconds."""
    deadline = time.monotonic() + within
    received = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def send_and_read(base_url: str, data: bytes, within: float = 5.0) -> tuple[bytes, bool]:
    """Send ``data`` on a fresh connection; what came back, and whether the server closed."""
    with socket.create_connection(address(base_url), timeout=within) as sock:
        # The server may answer and close before all is sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        return read_until_closed(sock, within)
