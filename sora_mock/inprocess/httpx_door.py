"""The httpx doors: ``mock`` (respx, or httpx's transports patched) and ``transport``.

Both turn an ``httpx.Request`` into a plain :class:`~sora_mock.contract.Request`, hand it to
:meth:`MockAPI.handle <sora_mock.inprocess.MockAPI.handle>`, and turn the plain response back
(with :mod:`sora_mock.inprocess.httpx_route`); nothing else happens here. :func:`mock`
answers every sync or async client reaching the API's base URL in-process, by patching
httpx's own transports (:func:`~sora_mock.inprocess.route`, the default: below the cost of a
static respx route per request) or, with ``via="respx"``, through a respx router;
:func:`transport` is for code that lets you inject a transport, and sees clients neither
patch can.

Example::

    with sora_mock.mock(seed=1) as api:
        task = httpx.post("https://api.evolink.ai/v1/videos/generations", ...).json()
        api.run_until_idle()
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import httpx
import respx
from respx.patterns import parse_url_patterns

from sora_mock.errors import UsageError
from sora_mock.inprocess._libraries import library_routes
from sora_mock.inprocess.handle import (
    DEFAULT_BASE_URL,
    ClockLike,
    ConfigLike,
    MockAPI,
    SpecLike,
)
from sora_mock.inprocess.httpx_route import Route, SoraTransport, route

_F = TypeVar("_F", bound=Callable[..., Any])
Via = Literal["respx", "transport"]


class _ApiRoute(respx.Route):
    """A respx route answering the API's base URL from the mock, built once per activation.

    Its respx pattern (the base URL) names it among the router's routes; matching itself is
    :meth:`Route.covers <sora_mock.inprocess.httpx_route.Route.covers>`, and the answer comes
    straight from the mock rather than through a respx side effect, which inspects its
    callable's signature on every request.
    """

    def __init__(self, door: Route) -> None:
        super().__init__(*parse_url_patterns(door.base_url, exact=False).values())
        self.door = door

    def match(self, request: httpx.Request) -> httpx.Response | None:
        if not self.door.covers(request.url):
            return None
        try:
            return self.door.answer(request)
        except Exception as error:  # recorded and raised as respx does a side effect's
            raise respx.models.SideEffectError(self, origin=error) from error


class HttpxMock(MockAPI):
    """A :class:`MockAPI` that answers httpx, requests and aiohttp calls for its base URL
    while active (requests and aiohttp where installed, through ``responses`` and
    ``aioresponses``: see :mod:`sora_mock.inprocess.requests_door` and
    :mod:`sora_mock.inprocess.aiohttp_door`).

    Use it as a context manager (``with``/``async with``) or decorate a sync or async
    function with it. Requests to other hosts go out untouched, or, with
    ``assert_all_mocked=True``, fail (httpx: respx's ``AllMockedAssertionError``; requests
    and aiohttp: the ``ConnectionError`` and ``ClientConnectionError`` of their mocks). Re-entering
    starts from a reset state (see :meth:`MockAPI.reset`). ``via`` chooses how httpx is
    reached (see :func:`mock`).
    """

    def __init__(
        self,
        *,
        assert_all_mocked: bool = False,
        patch_sleep: bool = False,
        patch_clocks: bool = False,
        via: Via = "transport",
        **options: Any,
    ) -> None:
        if via not in ("respx", "transport"):
            raise UsageError(f"via must be 'respx' or 'transport', not {via!r}")
        super().__init__(**options)
        self.assert_all_mocked = assert_all_mocked
        self.patch_sleep = patch_sleep
        self.patch_clocks = patch_clocks
        self.via = via
        self._router: respx.MockRouter | None = None
        self._fallback: respx.MockRouter | None = None
        self._route: Route | None = None
        self._active: contextlib.ExitStack | None = None
        self._libraries: dict[str, Any] = {}
        self._used = False

    @property
    def router(self) -> respx.MockRouter:
        """A respx router while active: add your own routes for other hosts to it.

        Through the transport patch (the default) it is started on first use and sees only
        what the base URL does not cover; with ``assert_all_mocked``, it then refuses the
        requests none of its routes (nor another respx mock) answers.
        """
        if self._active is None:
            raise UsageError("the mock is not active; use it in a with block or as a decorator")
        if self._router is None:
            self._router = self._start_router()
            self._active.callback(self._stop_router)
            if self._route is not None:
                self._route.exclusive = False  # the router refuses instead, after its routes
        return self._router

    @property
    def responses(self) -> Any:
        """The ``responses.RequestsMock`` answering ``requests`` while active: add your own
        responses for other hosts to it (a ``responses`` mock started inside the block
        would see the API's requests first)."""
        return self._library("requests")

    @property
    def aioresponses(self) -> Any:
        """The ``aioresponses`` mock answering aiohttp while active: add your own responses
        for other hosts to it."""
        return self._library("aiohttp")

    def _library(self, name: str) -> Any:
        if self._active is None:
            raise UsageError("the mock is not active; use it in a with block or as a decorator")
        if name not in self._libraries:
            raise UsageError(f"{name} is not installed: pip install 'sora-mock[{name}]'")
        return self._libraries[name]

    def start(self) -> HttpxMock:
        """Start answering httpx requests for the base URL."""
        if self._active is not None:
            raise UsageError("this mock is already active")
        if self._used:
            self.reset()
        with contextlib.ExitStack() as stack:
            if self.via == "transport":
                self._route = stack.enter_context(
                    route(self.base_url, self.handle, exclusive=self.assert_all_mocked)
                )
                stack.callback(setattr, self, "_route", None)
            else:
                self._router = self._start_router(Route(self.base_url, self.handle))
                stack.callback(self._stop_router)
            self._libraries = stack.enter_context(
                library_routes(self.base_url, self.handle, exclusive=self.assert_all_mocked)
            )
            stack.callback(setattr, self, "_libraries", {})
            if self.patch_sleep or self.patch_clocks:
                stack.enter_context(self.virtual_sleep(clocks=self.patch_clocks))
            self._active = stack.pop_all()
        return self

    def stop(self) -> None:
        """Stop answering; httpx behaves normally again."""
        active, self._active = self._active, None
        if active is not None:
            active.close()
        self._used = True

    def _start_router(self, api: Route | None = None) -> respx.MockRouter:
        # The router refuses what none of its routes answers; unless ``assert_all_mocked``,
        # a second one started after it lets the rest out (a catch-all route in the first
        # would come before the routes a test adds to ``router``).
        router = respx.MockRouter(assert_all_called=False)
        if api is not None:
            router.add(_ApiRoute(api))
        router.start()
        if not self.assert_all_mocked:
            self._fallback = respx.MockRouter(assert_all_called=False)
            self._fallback.route().mock(side_effect=self._elsewhere)
            self._fallback.start()
        return router

    def _stop_router(self) -> None:
        for router in (self._fallback, self._router):
            if router is not None:
                router.stop(quiet=True)
        self._router = self._fallback = None

    def _elsewhere(self, request: httpx.Request) -> httpx.Response | httpx.Request:
        # Another host: give the other active respx routers (a test's own ``respx_mock``)
        # their turn whatever order they started in, then let the request out.
        ours = (self._router, self._fallback)
        mocker = self._fallback.Mocker if self._fallback is not None else None
        for router in list(mocker.routers if mocker is not None else ()):
            if any(router is mine for mine in ours):
                continue
            try:
                response: httpx.Response = router.handler(request)
            except respx.models.AllMockedAssertionError:
                continue
            return response
        return request  # respx: the request itself means "pass through"

    def __enter__(self) -> HttpxMock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> HttpxMock:
        return self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.stop()

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` (sync or async) so it runs with this mock active."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await func(*args, **kwargs)

            return cast(_F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(_F, run)


def mock(
    *,
    base_url: str = DEFAULT_BASE_URL,
    spec: SpecLike = None,
    config: ConfigLike = None,
    seed: int | None = None,
    clock: ClockLike = None,
    scenario: str | None = None,
    assert_all_mocked: bool = False,
    patch_sleep: bool = False,
    patch_clocks: bool = False,
    via: Via = "transport",
    **options: Any,
) -> HttpxMock:
    """A mock of the API for httpx, requests and aiohttp clients: a context manager and a decorator.

    Args:
        base_url: the URL the mocked API answers at (scheme, host, port and path prefix).
        spec: the contract to mock: a :class:`~sora_mock.contract.Contract`, or the path of
            an OpenAPI document or a list of them (merged; ``"bundled"`` names the shipped
            documents). Default: ``SORA_MOCK_SPEC``, else the bundled documents.
        config: a :class:`~sora_mock.engine.MockConfig`, a mapping merged over the
            defaults, or a YAML file path.
        seed: makes task ids and drawn values (names, links) reproducible.
        clock: a clock, or the start time of the :class:`~sora_mock.engine.VirtualClock`.
        scenario: sent as ``Prefer: scenario=NAME`` on requests that name none.
        assert_all_mocked: refuse requests to any other host instead of letting them out.
        patch_sleep: make ``time.sleep``/``asyncio.sleep`` in this thread advance the
            virtual clock while active (see :mod:`sora_mock.inprocess.sleeps` for the trade-off).
        patch_clocks: also make ``time.monotonic``, ``time.perf_counter`` and ``time.time``
            in this thread read the virtual clock (for clients that keep their own
            deadlines); implies ``patch_sleep``.
        via: ``"transport"`` (default) patches httpx's ``HTTPTransport`` and
            ``AsyncHTTPTransport`` (see :func:`route`): requests under the base URL are
            answered before any respx mock sees them, others go on to respx mocks (a
            test's own, or ``api.router``, started on first use) and then out; httpx
            clients built while active share SSL contexts (otherwise 50-100 ms each).
            ``"respx"`` routes through a respx router started with the mock, tried in
            start order with other respx mocks (a test's own mock started earlier sees
            the API's requests first), at about 1.5 times the cost per request.
        options: passed on to :class:`~sora_mock.inprocess.MockAPI` (``engine``).

    Example::

        @sora_mock.mock(seed=1)
        def test_client() -> None: ...

        with sora_mock.mock() as api:
            ...
            api.run_until_idle()
    """
    return HttpxMock(
        base_url=base_url,
        spec=spec,
        config=config,
        seed=seed,
        clock=clock,
        scenario=scenario,
        assert_all_mocked=assert_all_mocked,
        patch_sleep=patch_sleep,
        patch_clocks=patch_clocks,
        via=via,
        **options,
    )


class MockTransport(MockAPI, SoraTransport["MockTransport"]):
    """An ``httpx.MockTransport`` that is also the mock's handle: a :class:`MockAPI`.

    It answers every request it is given, whatever the host, and offers the handle's whole
    API (``advance``, ``run_until_idle``, ``tasks``, ``calls``, ``reset``, ``scenario``,
    ``assert_*``). It is the :class:`~sora_mock.inprocess.SoraTransport` of itself: ``api``
    and :meth:`transport` are the transport itself.

    Example::

        transport = sora_mock.transport(seed=1)
        client = httpx.Client(transport=transport, base_url="https://api.evolink.ai")
        transport.run_until_idle()
        transport.assert_all_requests_valid()
    """

    def __init__(self, **options: Any) -> None:
        MockAPI.__init__(self, **options)
        SoraTransport.__init__(self, self)

    def transport(self) -> MockTransport:
        """This transport: it already answers from this mock."""
        return self


def transport(
    *,
    spec: SpecLike = None,
    config: ConfigLike = None,
    seed: int | None = None,
    clock: ClockLike = None,
    scenario: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    **options: Any,
) -> MockTransport:
    """An ``httpx.MockTransport`` over a fresh mock, which is also its handle.

    ``spec`` is the contract to mock, as for :func:`mock`; ``base_url`` only shapes the
    links the mock writes when a request does not say its own.
    """
    return MockTransport(
        spec=spec,
        config=config,
        seed=seed,
        clock=clock,
        scenario=scenario,
        base_url=base_url,
        **options,
    )
