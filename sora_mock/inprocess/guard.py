"""A guard: calls to the API's host that no mock answers fail instead of leaving the machine.

The guard sits at the lowest layer each library offers (httpcore's connection pools for
httpx, urllib3's connection pool for requests, aiohttp's connector), below every mock:
``sora_mock.mock()``'s doors, respx, ``responses`` and ``aioresponses`` answer first, and a
request reaches the guard only when none of them did and it was about to open a connection.
A guarded request raises :class:`~sora_mock.errors.UnmockedCallError` with a hint, and the
first one is raised again when the :meth:`Guard.watching` block ends, so a client that
swallows the error is caught after it.

Only libraries already imported are patched (a guard costs nothing else), and only while a
:meth:`Guard.watching` block is active. The pytest plugin watches each test's phases.

Example::

    guard = Guard("https://api.evolink.ai", hint="use the sora_api fixture")
    with guard.watching():
        httpx.get("https://api.evolink.ai/v1/tasks/x")   # raises UnmockedCallError
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sora_mock.errors import UnmockedCallError
from sora_mock.inprocess._patching import Registry, SharedPatch
from sora_mock.inprocess._urls import DEFAULT_PORTS, Origin


@dataclass(frozen=True, slots=True)
class Refusal:
    """A call the guard stopped."""

    method: str
    url: str


class Guard:
    """Refuses calls to ``base_url``'s origin while watching; ``hint`` says what to use."""

    def __init__(self, base_url: str, hint: str) -> None:
        self.base_url = base_url
        self.origin = Origin.of(base_url)
        self.hint = hint
        self.refused: Refusal | None = None

    def covers(self, url: str) -> bool:
        """True when ``url`` is on the guarded origin (scheme, host and port)."""
        return Origin.of(url) == self.origin

    def check(self, method: str, url: str) -> None:
        """Raise :class:`UnmockedCallError` when ``url`` is on the guarded origin."""
        if not self.covers(url):
            return
        refusal = Refusal(method.upper(), url)
        if self.refused is None:
            self.refused = refusal
        raise self.error(refusal)

    def error(self, refusal: Refusal) -> UnmockedCallError:
        """The error for ``refusal``."""
        return UnmockedCallError(
            f"{refusal.method} {refusal.url}: no sora mock answers {self.base_url} here, and "
            f"the call would reach the real API; {self.hint}"
        )

    @contextlib.contextmanager
    def watching(self) -> Iterator[Guard]:
        """Within the block, refuse guarded calls from each library imported so far.

        A block that ends normally after a refusal raises it again (the first one), so a
        caller that swallowed the error still fails; :attr:`refused` starts empty each block.
        """
        self.refused = None
        with contextlib.ExitStack() as stack:
            for name, patch in _LIBRARY_PATCHES.items():
                if name in sys.modules:
                    stack.enter_context(patch().applied())
            yield stack.enter_context(_guards.added(self))
        if self.refused is not None:
            raise self.error(self.refused)


_guards: Registry[Guard] = Registry()
_lock = threading.Lock()  # makes each library's patch once


def _check(method: str, url: str) -> None:
    for guard in _guards.entries:
        guard.check(method, url)


def _httpx_patch() -> SharedPatch:
    import httpcore

    def check(request: httpcore.Request) -> None:
        url = request.url
        port = "" if url.port is None else f":{url.port}"
        full = f"{url.scheme.decode()}://{url.host.decode()}{port}{url.target.decode()}"
        _check(request.method.decode("ascii"), full)

    def handle_request(pool: Any, request: httpcore.Request) -> Any:
        check(request)
        return patch.real["sync"](pool, request)

    async def handle_async_request(pool: Any, request: httpcore.Request) -> Any:
        check(request)
        return await patch.real["async"](pool, request)

    patch = SharedPatch(
        {
            "sync": (httpcore.ConnectionPool, "handle_request", handle_request),
            "async": (httpcore.AsyncConnectionPool, "handle_async_request", handle_async_request),
        }
    )
    return patch


def _requests_patch() -> SharedPatch:
    from urllib3.connectionpool import HTTPConnectionPool

    def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        default = pool.port in (None, DEFAULT_PORTS.get(pool.scheme))
        port = "" if default else f":{pool.port}"
        full = url if "://" in url else f"{pool.scheme}://{pool.host}{port}{url}"
        _check(method, full)
        return patch.real["urlopen"](pool, method, url, *args, **kwargs)

    patch = SharedPatch({"urlopen": (HTTPConnectionPool, "urlopen", urlopen)})
    return patch


def _aiohttp_patch() -> SharedPatch:
    from aiohttp.connector import BaseConnector

    async def connect(connector: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        _check(req.method, str(req.url))
        return await patch.real["connect"](connector, req, *args, **kwargs)

    patch = SharedPatch({"connect": (BaseConnector, "connect", connect)})
    return patch


def _once(make: Callable[[], SharedPatch]) -> Callable[[], SharedPatch]:
    made: list[SharedPatch] = []

    def get() -> SharedPatch:
        with _lock:
            if not made:
                made.append(make())
            return made[0]

    return get


#: Each library's patch by the module whose presence says the library is in use.
_LIBRARY_PATCHES = {
    "httpx": _once(_httpx_patch),
    "requests": _once(_requests_patch),
    "aiohttp": _once(_aiohttp_patch),
}
