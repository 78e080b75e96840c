"""The httpx doors: ``mock`` (respx, or httpx's transports patched) and ``transport``.

Both turn an ``httpx.Request`` into a plain :class:`~sora_mock.contract.Request`, hand it to
:meth:`MockAPI.handle <sora_mock.inprocess.MockAPI.handle>`, and turn the plain response back
(with :mod:`sora_mock.inprocess.httpx_route`); nothing else happens here. :func:`mock`
answers every sync or async client reaching the API's base URL in-process, through a respx
router (the default) or, with ``via="transport"``, by patching httpx's own transports
(:func:`~sora_mock.inprocess.route`, about half the cost per request); :func:`transport` is
for code that lets you inject a transport, and sees clients neither patch can.

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


class HttpxMock(MockAPI):
    """A :class:`MockAPI` that answers httpx requests for its base URL while active.

    Use it as a context manager (``with``/``async with``) or decorate a sync or async
    function with it. Requests to other hosts go out untouched, or, with
    ``assert_all_mocked=True``, fail with respx's ``AllMockedAssertionError``. Re-entering
    starts from a reset state (see :meth:`MockAPI.reset`). ``via`` chooses how httpx is
    reached (see :func:`mock`).
    """

    def __init__(
        self,
        *,
        assert_all_mocked: bool = False,
        patch_sleep: bool = False,
        patch_clocks: bool = False,
        via: Via = "respx",
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
        self._active: contextlib.ExitStack | None = None
        self._used = False

    @property
    def router(self) -> respx.MockRouter:
        """The respx router while active (add your own routes for other hosts to it)."""
        if self._active is None:
            raise UsageError("the mock is not active; use it in a with block or as a decorator")
        if self._router is None:
            raise UsageError("this mock patches httpx's transports (via='transport'): no router")
        return self._router

    def start(self) -> HttpxMock:
        """Start answering httpx requests for the base URL."""
        if self._active is not None:
            raise UsageError("this mock is already active")
        if self._used:
            self.reset()
        with contextlib.ExitStack() as stack:
            if self.via == "transport":
                stack.enter_context(
                    route(self.base_url, self.handle, exclusive=self.assert_all_mocked)
                )
            else:
                self._router = self._start_router()
                stack.callback(self._stop_router)
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

    def _start_router(self) -> respx.MockRouter:
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=self.assert_all_mocked)
        router.route(*parse_url_patterns(self.base_url, exact=False).values()).mock(
            side_effect=Route(self.base_url, self.handle).answer
        )
        if not self.assert_all_mocked:
            router.route().mock(side_effect=self._elsewhere)
        router.start()
        return router

    def _stop_router(self) -> None:
        if self._router is not None:
            self._router.stop(quiet=True)
            self._router = None

    def _elsewhere(self, request: httpx.Request) -> httpx.Response | httpx.Request:
        # Another host: give the other active respx routers (a test's own ``respx_mock``)
        # their turn whatever order they started in, then let the request out.
        ours = self._router
        mocker = ours.Mocker if ours is not None else None
        for router in list(mocker.routers if mocker is not None else ()):
            if router is ours:
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
    via: Via = "respx",
    **options: Any,
) -> HttpxMock:
    """A mock of the API for httpx clients: a context manager and a decorator.

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
        via: ``"respx"`` (default) routes through a respx router: ``api.router`` takes
            routes of your own, and a test's own respx mocks keep theirs. ``"transport"``
            patches httpx's ``HTTPTransport``/``AsyncHTTPTransport`` instead (see
            :func:`route`): about half the cost per request, httpx clients built while
            active share SSL contexts (otherwise 50-100 ms each), no respx involved
            (other respx mocks still answer their hosts).
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


def transport(
    *,
    spec: SpecLike = None,
    config: ConfigLike = None,
    seed: int | None = None,
    clock: ClockLike = None,
    scenario: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    **options: Any,
) -> SoraTransport[MockAPI]:
    """An ``httpx.MockTransport`` over a fresh mock; its handle is ``.api``.

    ``spec`` is the contract to mock, as for :func:`mock`; ``base_url`` only shapes the
    links the mock writes when a request does not say its own.
    """
    api = MockAPI(
        spec=spec,
        config=config,
        seed=seed,
        clock=clock,
        scenario=scenario,
        base_url=base_url,
        **options,
    )
    return SoraTransport(api)
