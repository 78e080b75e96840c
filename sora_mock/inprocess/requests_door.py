"""The requests door: calls to the base URL answered in-process, through ``responses``.

:func:`requests_route` starts a ``responses.RequestsMock`` whose callbacks turn a
``requests.PreparedRequest`` into a plain :class:`~sora_mock.contract.Request`, ask a
handler, and turn the plain response back, carrying out its latency and faults as the
exceptions ``requests`` raises against a real server that misbehaves so:

- a ``delay`` past the read timeout: ``requests.exceptions.ReadTimeout``;
- ``drop_connection``: ``requests.exceptions.ConnectionError`` (connection aborted);
- ``truncated_body``: ``requests.exceptions.ChunkedEncodingError`` (incomplete read).

Everything else passes through to whatever answered before the block (a test's own
``responses`` mock started earlier, or the network), unless ``exclusive``.

Example::

    with requests_route("https://api.evolink.ai", api.handle):
        requests.get("https://api.evolink.ai/v1/tasks/task-1")
"""

from __future__ import annotations

import contextlib
import http.client
import re
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import responses
from requests.adapters import HTTPAdapter

from sora_mock.contract import Request, Response
from sora_mock.inprocess._door import METHODS, Handler, wait_out, wire_headers
from sora_mock.inprocess._urls import BaseURL

_Answer = tuple[int, list[tuple[str, str]], bytes]


def to_request(request: requests.PreparedRequest, base: BaseURL) -> Request:
    """The plain request for a prepared ``requests`` request under ``base``."""
    url = urlsplit(str(request.url))
    body = request.body
    data = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
    return Request.build(
        str(request.method),
        base.path(url.path or "/"),
        query=url.query,
        headers=[
            (name, value if isinstance(value, str) else value.decode("latin-1"))
            for name, value in request.headers.items()
        ],
        body=data,
        base_url=f"{url.scheme}://{url.netloc}{base.prefix}",
    )


def read_timeout(timeout: object) -> float | None:
    """The read timeout in a ``requests`` timeout (a number, ``(connect, read)`` or None)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) > 1 else None
    return float(timeout) if isinstance(timeout, int | float) else None


def to_answer(response: Response, request: requests.PreparedRequest) -> _Answer:
    """What ``responses`` builds the client's response from; raises the fault's exception."""
    kwargs = getattr(request, "req_kwargs", {})
    timeout = read_timeout(kwargs.get("timeout"))
    host = urlsplit(str(request.url)).hostname
    if wait_out(response, timeout):
        raise requests.exceptions.ReadTimeout(
            f"HTTPConnectionPool(host={host!r}): Read timed out. (read timeout={timeout:g})",
            request=request,
        )
    if response.fault == "drop_connection":
        disconnected = http.client.RemoteDisconnected(
            "Remote end closed connection without response"
        )
        raise requests.exceptions.ConnectionError(
            ("Connection aborted.", disconnected), request=request
        )
    if response.fault == "truncated_body":
        half = len(response.body) // 2
        incomplete = http.client.IncompleteRead(response.body[:half], len(response.body) - half)
        raise requests.exceptions.ChunkedEncodingError(
            f"('Connection broken: {incomplete!r}', {incomplete!r})", request=request
        )
    return response.status, wire_headers(response), response.body


@contextlib.contextmanager
def requests_route(
    base_url: str, handle: Handler, *, exclusive: bool = False
) -> Iterator[responses.RequestsMock]:
    """Within the block, ``requests`` calls under ``base_url`` are answered by ``handle``.

    Other calls go on to what answered before the block (passed through), or, with
    ``exclusive``, fail with the ``ConnectionError`` of ``responses``. Yields the
    ``responses.RequestsMock``: a test may add its own responses to it.
    """
    base = BaseURL.parse(base_url)
    pattern = base.pattern()

    def answer(request: requests.PreparedRequest) -> _Answer:
        return to_answer(handle(to_request(request, base)), request)

    # Passing through goes to what is patched now (a test's own mock), not only the network.
    real_send: Any = HTTPAdapter.send  # typeshed and responses spell its type differently
    mock = responses.RequestsMock(assert_all_requests_are_fired=False, real_adapter_send=real_send)
    for method in METHODS:
        # responses accepts a header list too, though it annotates a mapping.
        mock.add_callback(method, pattern, cast(Any, answer), content_type=None)
    if not exclusive:
        mock.add_passthru(re.compile(".*"))
    with mock:
        yield mock
