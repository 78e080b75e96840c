"""Routing httpx requests to a handler in-process: the conversions and the transport patch.

:func:`to_request` and :func:`to_httpx` turn an httpx request into a plain
:class:`~sora_mock.contract.Request` and a plain :class:`~sora_mock.contract.Response` back
into what an httpx client sees (carrying out latency and connection faults). :func:`route`
patches httpx's own transports so that every request under a base URL, from any client
built before or inside the block, goes to a handler; it is ``sora_mock.mock(via="transport")``
and the conformance harness's in-process door. Every door in
:mod:`sora_mock.inprocess.httpx_door` uses the conversions.

Example::

    with route("http://sora.test", engine.handle):
        httpx.get("http://sora.test/__mock/health")
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

import httpx
import respx
from httpx._transports import default as _default_transport

from sora_mock.contract import Request, Response
from sora_mock.inprocess._door import Handler, wait_out, wire_headers
from sora_mock.inprocess._patching import Registry, SharedPatch
from sora_mock.inprocess._urls import BaseURL


def to_request(request: httpx.Request, base: BaseURL | None = None) -> Request:
    """The plain request for an (already read) httpx request; ``base``'s prefix is stripped."""
    prefix = "" if base is None else base.prefix
    path = request.url.path if base is None else base.path(request.url.path)
    url = request.url
    return Request.build(
        request.method,
        path,
        query=url.query.decode("ascii", "replace"),
        headers=request.headers.multi_items(),
        body=request.content,
        base_url=f"{url.scheme}://{url.netloc.decode('ascii')}{prefix}",
    )


def from_httpx(response: httpx.Response) -> Response:
    """The plain response for an httpx one (reading its body if it is not read yet)."""
    return Response(response.status_code, tuple(response.headers.multi_items()), response.read())


def to_httpx(response: Response, request: httpx.Request) -> httpx.Response:
    """The httpx response for a plain one, carrying out the engine's door instructions.

    Nothing waits for real. A ``delay`` moves the virtual clock of a thread whose sleeps are
    virtual (:mod:`sora_mock.inprocess.sleeps`), by at most the client's read timeout, as
    waiting for a server would; elsewhere it is skipped and mock time does not move (the
    server door sleeps it). A delay longer than the read timeout then raises ``httpx.ReadTimeout``.
    ``drop_connection`` and ``truncated_body`` raise the ``httpx.RemoteProtocolError`` a
    client sees when a real server does that.
    """
    timeout = (request.extensions.get("timeout") or {}).get("read")
    if wait_out(response, timeout):
        raise httpx.ReadTimeout(
            f"sora-mock: the answer comes after {response.delay:g} s, past the read timeout "
            f"of {timeout:g} s",
            request=request,
        )
    if response.fault == "drop_connection":
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    if response.fault == "truncated_body":
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body: received "
            f"{len(response.body) // 2} bytes, expected {len(response.body)}",
            request=request,
        )
    # A ready stream: ``content=`` would set the same header at several times the cost.
    return httpx.Response(
        response.status,
        headers=wire_headers(response),
        stream=httpx.ByteStream(response.body),
        request=request,
    )


class Route:
    """Requests under ``base_url`` (scheme, host, port, path prefix) go to ``handle``.

    With ``exclusive``, requests no active route covers are refused (see :func:`route`).
    """

    def __init__(self, base_url: str, handle: Handler, exclusive: bool = False) -> None:
        self.base_url = base_url
        self.base = BaseURL.parse(base_url)
        self.handle = handle
        self.exclusive = exclusive

    def covers(self, url: httpx.URL) -> bool:
        """True when ``url`` is under the base URL (the prefix on a segment boundary)."""
        return self.base.covers(str(url))

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The handler's answer to an (already read) request, as httpx's."""
        return to_httpx(self.handle(to_request(request, self.base)), request)


# The transport patch, applied while any route is active; ``route`` adds to ``_routes``.
_routes: Registry[Route] = Registry()
_ssl_lock = threading.Lock()
_ssl_contexts: dict[tuple[Any, ...], Any] = {}
_SSL_ENVIRONMENT = ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE")


def _routed(request: httpx.Request) -> Route | None:
    routes = _routes.entries
    for candidate in reversed(routes):
        if candidate.covers(request.url):
            return candidate
    if any(r.exclusive for r in routes):
        raise respx.models.AllMockedAssertionError(f"RESPX: {request!r} not mocked!")
    return None


def _handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    found = _routed(request)
    if found is None:
        return cast(httpx.Response, _TRANSPORTS.real["sync"](self, request))
    request.read()
    return found.answer(request)


async def _handle_async_request(
    self: httpx.AsyncHTTPTransport, request: httpx.Request
) -> httpx.Response:
    found = _routed(request)
    if found is None:
        return cast(httpx.Response, await _TRANSPORTS.real["async"](self, request))
    await request.aread()
    return found.answer(request)


def _ssl_context(*args: Any, **kwargs: Any) -> Any:
    # Building an SSL context (certifi's bundle) costs 50-100 ms per httpx client, and routed
    # requests never use one: clients built while routing share one per plain setting. The
    # contexts outlive a block (the harness routes each run anew) but not a change of the
    # environment variables httpx reads for them.
    make = _TRANSPORTS.real["ssl"]
    if args or kwargs.get("cert") is not None or not isinstance(kwargs.get("verify", True), bool):
        return make(*args, **kwargs)
    key = (*sorted(kwargs.items()), *(os.environ.get(name) for name in _SSL_ENVIRONMENT))
    with _ssl_lock:
        if key not in _ssl_contexts:
            if len(_ssl_contexts) >= 8:
                _ssl_contexts.clear()
            _ssl_contexts[key] = make(**kwargs)
        return _ssl_contexts[key]


_TRANSPORTS = SharedPatch(
    {
        "sync": (httpx.HTTPTransport, "handle_request", _handle_request),
        "async": (httpx.AsyncHTTPTransport, "handle_async_request", _handle_async_request),
        "ssl": (_default_transport, "create_ssl_context", _ssl_context),
    }
)


@contextlib.contextmanager
def route(base_url: str, handle: Handler, *, exclusive: bool = False) -> Iterator[Route]:
    """Within the block, httpx requests under ``base_url`` are answered by ``handle``.

    ``httpx.HTTPTransport`` and ``AsyncHTTPTransport`` are patched (as respx patches
    httpcore, at about half its cost per request), so every client using httpx's own
    transport is routed, from any thread, including one built inside the block; other
    requests go out as usual, or, with ``exclusive``, fail with respx's
    ``AllMockedAssertionError``. Blocks may overlap in any order (the newest route covering
    a URL answers), and httpx clients built meanwhile share SSL contexts.

    Example::

        with route("http://sora.test", engine.handle):
            httpx.get("http://sora.test/__mock/health")
    """
    with _TRANSPORTS.applied(), _routes.added(Route(base_url, handle, exclusive)) as added:
        yield added


class RequestHandler(Protocol):
    """What answers a door's requests (a :class:`~sora_mock.inprocess.MockAPI`)."""

    def handle(self, request: Request) -> Response: ...


_Handler = TypeVar("_Handler", bound=RequestHandler, covariant=True)


class SoraTransport(httpx.MockTransport, Generic[_Handler]):
    """An ``httpx.MockTransport`` answering every request from ``api``, whatever the host.

    The one transport of the in-process doors: :meth:`MockAPI.transport
    <sora_mock.inprocess.MockAPI.transport>` wraps a handle in one, and
    :func:`sora_mock.transport` returns a :class:`~sora_mock.inprocess.MockTransport`, a
    ``SoraTransport`` that is its own handle.

    Example::

        api = sora_mock.inprocess.MockAPI(seed=1)
        client = httpx.Client(transport=api.transport(), base_url="https://api.evolink.ai")
        api.run_until_idle()
    """

    def __init__(self, api: _Handler) -> None:
        self._api = api
        super().__init__(self._answer)

    @property
    def api(self) -> _Handler:
        """What answers this transport's requests."""
        return self._api

    def _answer(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self._api.handle(to_request(request)), request)
