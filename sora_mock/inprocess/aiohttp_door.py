"""The aiohttp door: calls to the base URL answered in-process, through ``aioresponses``.

:func:`aiohttp_route` starts an ``aioresponses`` mock whose callback turns the arguments of
``ClientSession._request`` into a plain :class:`~sora_mock.contract.Request`, asks a
handler, and turns the plain response back, carrying out its latency and faults as the
exceptions aiohttp raises against a real server that misbehaves so:

- a ``delay`` past ``sock_read``: ``aiohttp.SocketTimeoutError`` (a ``ServerTimeoutError``
  and ``TimeoutError``); past ``total``: ``TimeoutError``;
- ``drop_connection``: ``aiohttp.ServerDisconnectedError`` (a ``ClientConnectionError``),
  after aiohttp's one retry of an idempotent request (GET, PUT, DELETE ...), as it retries
  on a real server;
- ``truncated_body``: reading the body raises ``aiohttp.ClientPayloadError``.

Everything else passes through to whatever answered before the block (a test's own
``aioresponses`` started earlier, or the network), unless ``exclusive``.

Example::

    with aiohttp_route("https://api.evolink.ai", api.handle):
        async with aiohttp.ClientSession() as session:
            await session.get("https://api.evolink.ai/v1/tasks/task-1")
"""

from __future__ import annotations

import contextlib
import functools
import http
import inspect
import json
import types
import unittest.mock
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict
from yarl import URL

from sora_mock.contract import Request, Response
from sora_mock.inprocess._door import METHODS, Handler, wait_out, wire_headers
from sora_mock.inprocess._urls import BaseURL


def _body(kwargs: Mapping[str, Any], headers: CIMultiDict[str]) -> bytes:
    """The bytes aiohttp would send for ``json=`` or ``data=``; sets the type it would."""
    if kwargs.get("json") is not None:
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data")
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return data.encode()
    if isinstance(data, Mapping):
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode(list(data.items())).encode()
    return b""


def to_request(method: str, url: URL, kwargs: Mapping[str, Any], base: BaseURL) -> Request:
    """The plain request for an aiohttp call (the arguments ``aioresponses`` passes on)."""
    headers: CIMultiDict[str] = CIMultiDict(kwargs.get("headers") or {})
    body = _body(kwargs, headers)
    return Request.build(
        method,
        base.path(url.path or "/"),
        query=url.raw_query_string,
        headers=list(headers.items()),
        body=body,
        base_url=f"{url.scheme}://{url.raw_authority}{base.prefix}",
    )


_NEEDS_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class MockedResponse(aiohttp.ClientResponse):
    """An aiohttp response as ``aioresponses`` builds it, on every aiohttp 3.9 and later.

    From aiohttp 3.14 a response needs the ``stream_writer`` of its (here unsent) request;
    ``aioresponses`` 0.7 passes none, so one with nothing written stands in. A test's own
    ``aioresponses`` mock needs it too on such versions:
    ``mocked.get(url, status=204, response_class=MockedResponse)``.
    """

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        if _NEEDS_WRITER:
            kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class _TruncatedResponse(MockedResponse):
    """A response whose body stops short: reading it fails as aiohttp's does."""

    async def read(self) -> bytes:
        raise aiohttp.ClientPayloadError(
            "Response payload is not completed: <ContentLengthError: 400, message='Not "
            "enough data to satisfy content length header.'>"
        )


#: What a read past ``sock_read`` raises (``ServerTimeoutError`` before aiohttp 3.10).
_SOCKET_TIMEOUT: type[Exception] = getattr(
    aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError
)


def _timeout_error(response: Response, timeout: aiohttp.ClientTimeout) -> Exception | None:
    """The exception aiohttp raises when ``response`` comes past ``timeout``, if it does."""
    limits = {"sock_read": timeout.sock_read, "total": timeout.total}
    set_limits = {name: value for name, value in limits.items() if value is not None}
    if not set_limits:
        wait_out(response, None)
        return None
    name = min(set_limits, key=lambda key: set_limits[key])
    if not wait_out(response, set_limits[name]):
        return None
    if name == "total":
        return TimeoutError()
    return _SOCKET_TIMEOUT("Timeout on reading data from socket")


#: What aiohttp sends once more on a fresh connection when the server closed without answering.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


def _retries(session: aiohttp.ClientSession, method: str) -> bool:
    """Whether aiohttp sends ``method`` once more after the server closed without answering."""
    return getattr(session, "_retry_connection", True) and method.upper() in IDEMPOTENT_METHODS


class _Dropped(aiohttp.ServerDisconnectedError):
    """The mock closed without answering (told apart from a test's own mocked errors)."""


def _reason(status: int) -> str:
    """The reason phrase a server sends with ``status`` (aiohttp needs one to raise)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def to_result(response: Response, timeout: aiohttp.ClientTimeout) -> CallbackResult:
    """What ``aioresponses`` builds the client's response from; raises the fault's exception."""
    late = _timeout_error(response, timeout)
    if late is not None:
        raise late
    if response.fault == "drop_connection":
        raise _Dropped()
    headers = CIMultiDict(wire_headers(response))
    return CallbackResult(
        status=response.status,
        body=response.body,
        headers=headers,  # type: ignore[arg-type]  # annotated a dict; a multidict keeps repeats
        content_type=headers.get("Content-Type", "application/octet-stream"),
        reason=_reason(response.status),
        response_class=_TruncatedResponse if response.fault == "truncated_body" else MockedResponse,
    )


class _Responses(aioresponses):
    """``aioresponses`` that hands the callback the session's timeout, and stacks.

    ``aioresponses`` patches ``ClientSession._request`` with an autospec mock, which a
    second one cannot spec again; this one puts a plain function there instead, so a test's
    own ``aioresponses`` may start before or after it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

        async def request(
            session: aiohttp.ClientSession, method: str, url: Any, *args: Any, **kwargs: Any
        ) -> aiohttp.ClientResponse:
            if not isinstance(kwargs.get("timeout"), aiohttp.ClientTimeout):
                kwargs["timeout"] = session.timeout

            # aiohttp sends an idempotent request once more when the server closes without
            # answering; a second drop reaches the caller.
            async def attempt() -> aiohttp.ClientResponse | None:
                try:
                    answered: aiohttp.ClientResponse = await self._request_mock(
                        session, method, url, *args, **kwargs
                    )
                except _Dropped:
                    return None
                return answered

            response = await attempt()
            if response is None and _retries(session, method):
                response = await attempt()
            if response is None:
                raise aiohttp.ServerDisconnectedError()
            return response

        self.patcher = unittest.mock.patch("aiohttp.client.ClientSession._request", new=request)

    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        """Add a response as ``aioresponses`` does, built as a :class:`MockedResponse`
        unless the test names its own class (so it works on every aiohttp version)."""
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = MockedResponse
        super().add(url, method, *args, **kwargs)


@contextlib.contextmanager
def aiohttp_route(base_url: str, handle: Handler, *, exclusive: bool = False) -> Iterator[Any]:
    """Within the block, aiohttp calls under ``base_url`` are answered by ``handle``.

    Other calls go on to what answered before the block, or, with ``exclusive``, fail with
    the ``ClientConnectionError`` of ``aioresponses``. Yields the ``aioresponses`` mock: a
    test may add its own responses to it.
    """
    base = BaseURL.parse(base_url)

    def answer(method: str, url: URL, **kwargs: Any) -> CallbackResult:
        return to_result(handle(to_request(method, url, kwargs, base)), kwargs["timeout"])

    mock = _Responses(passthrough_unmatched=not exclusive)
    with mock:
        for method in METHODS:
            mock.add(
                base.pattern(),
                method=method,
                callback=functools.partial(answer, method),
                repeat=True,
            )
        yield mock
