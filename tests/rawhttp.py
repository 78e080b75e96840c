"""Raw HTTP/1.1 over a socket, for requests no client library would send."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    """What came back: a parsed response, or nothing (the server closed the connection)."""

    raw: bytes
    reset: bool = False

    @property
    def status(self) -> int | None:
        if not self.raw.startswith(b"HTTP/1.1 "):
            return None
        return int(self.raw.split(b" ", 2)[1])

    @property
    def headers(self) -> dict[str, str]:
        head = self.raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head)}

    @property
    def body(self) -> bytes:
        return self.raw.partition(b"\r\n\r\n")[2]

    def json(self) -> Any:
        return json.loads(self.body)


def address(base_url: str) -> tuple[str, int]:
    """``(host, port)`` of ``http://host:port``."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def exchange(
    base_url: str,
    data: bytes,
    *,
    shut_write: bool = False,
    timeout: float = 5.0,
) -> RawResponse:
    """Send ``data`` (then half-close if asked) and read until the server closes.

    Requests should say ``Connection: close`` so the server ends the exchange; a read
    timeout fails the test rather than hanging it.
    """
    received = b""
    reset = False
    with socket.create_connection(address(base_url), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            reset = True  # the server answered and closed before we finished sending
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            reset = True
    return RawResponse(received, reset)


def request(
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    close: bool = True,
) -> bytes:
    """The bytes of one request (``Host`` and ``Content-Length`` added)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
