"""What every in-process door shares beside the URLs it answers (``_urls``).

:data:`Handler` is what answers a door's requests; :func:`wire_headers` gives a response's
headers as the server sends them; :func:`wait_out` carries out a response's ``delay`` on the
virtual clock. Each door turns the rest (faults) into its library's own exceptions.
"""

from __future__ import annotations

from collections.abc import Callable

from sora_mock.contract import Request, Response
from sora_mock.inprocess.sleeps import virtual_wait

#: What answers a door's requests (``MockAPI.handle``, ``Engine.handle``).
Handler = Callable[[Request], Response]

#: The methods the doors register: a registry matches a method exactly.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def wire_headers(response: Response) -> list[tuple[str, str]]:
    """``response``'s headers with a ``Content-Length`` (unless it has one), as the server sends."""
    headers = list(response.headers)
    if not any(name.lower() == "content-length" for name, _ in headers):
        headers.append(("Content-Length", str(len(response.body))))
    return headers


def wait_out(response: Response, timeout: float | None) -> bool:
    """Let ``response.delay`` pass on the virtual clock, by at most ``timeout``.

    Nothing waits for real: in a thread whose sleeps are virtual
    (:mod:`sora_mock.inprocess.sleeps`) the clock moves, elsewhere the delay is skipped.
    True when the answer comes after ``timeout``: the client must see its timeout error.
    """
    if response.delay > 0:
        virtual_wait(response.delay if timeout is None else min(response.delay, timeout))
    return timeout is not None and response.delay > timeout
