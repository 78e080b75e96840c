"""The httpx doors: a respx router (``mock``) and an ``httpx.MockTransport`` (``transport``).

Both turn an ``httpx.Request`` into a plain :class:`~sora_mock.messages.Request`, hand it to
:meth:`MockAPI.handle <sora_mock.inprocess.MockAPI.handle>`, and turn the plain response
back; nothing else happens here. :func:`mock` patches httpx (through respx) so that every
sync or async client reaching the API's base URL is answered in-process; :func:`transport`
is for code that lets you inject a transport, and sees clients respx cannot.

Example::

    with sora_mock.mock(seed=1) as api:
        task = httpx.post("https://api.evolink.ai/v1/videos/generations", ...).json()
        api.run_until_idle()
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import httpx
import respx
from respx.patterns import parse_url_patterns

from sora_mock.errors import UsageError
from sora_mock.inprocess import DEFAULT_BASE_URL, ClockLike, ConfigLike, MockAPI
from sora_mock.messages import Request, Response

_F = TypeVar("_F", bound=Callable[..., Any])


def to_request(request: httpx.Request, prefix: str = "") -> Request:
    """The plain request for an (already read) httpx request; ``prefix`` is stripped."""
    path = request.url.path
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    url = request.url
    return Request.build(
        request.method,
        path,
        query=url.query.decode("ascii", "replace"),
        headers=request.headers.multi_items(),
        body=request.content,
        base_url=f"{url.scheme}://{url.netloc.decode('ascii')}{prefix}",
    )


def to_httpx(response: Response, request: httpx.Request) -> httpx.Response:
    """The httpx response for a plain one, carrying out the engine's door instructions.

    Nothing waits: a ``delay`` longer than the client's read timeout raises
    ``httpx.ReadTimeout`` at once, a shorter one is skipped (the server door sleeps it; mock
    time does not move on either). ``drop_connection`` and ``truncated_body`` raise the
    ``httpx.RemoteProtocolError`` a client sees when a real server does that.
    """
    timeout = (request.extensions.get("timeout") or {}).get("read")
    if timeout is not None and response.delay > timeout:
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
    return httpx.Response(
        response.status, headers=list(response.headers), content=response.body, request=request
    )


class SoraTransport(httpx.MockTransport):
    """An ``httpx.MockTransport`` answering every request from ``api``, whatever the host.

    Example::

        transport = sora_mock.transport(seed=1)
        client = httpx.Client(transport=transport, base_url="https://api.evolink.ai")
        transport.api.run_until_idle()
    """

    def __init__(self, api: MockAPI) -> None:
        self.api = api
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self.api.handle(to_request(request)), request)


class HttpxMock(MockAPI):
    """A :class:`MockAPI` that answers httpx requests for its base URL while active.

    Use it as a context manager (``with``/``async with``) or decorate a sync or async
    function with it. Requests to other hosts go out untouched, or, with
    ``assert_all_mocked=True``, fail with respx's ``AllMockedAssertionError``. Re-entering
    starts from a reset state (see :meth:`MockAPI.reset`).
    """

    def __init__(
        self,
        *,
        assert_all_mocked: bool = False,
        patch_sleep: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.assert_all_mocked = assert_all_mocked
        self.patch_sleep = patch_sleep
        self._prefix = httpx.URL(self.base_url).path.rstrip("/")
        self._router: respx.MockRouter | None = None
        self._sleep: Any = None
        self._used = False

    @property
    def router(self) -> respx.MockRouter:
        """The respx router while active (add your own routes for other hosts to it)."""
        if self._router is None:
            raise UsageError("the mock is not active; use it in a with block or as a decorator")
        return self._router

    def start(self) -> HttpxMock:
        """Start answering httpx requests for the base URL."""
        if self._router is not None:
            raise UsageError("this mock is already active")
        if self._used:
            self.reset()
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=self.assert_all_mocked)
        router.route(*parse_url_patterns(self.base_url, exact=False).values()).mock(
            side_effect=self._answer
        )
        if not self.assert_all_mocked:
            router.route().mock(side_effect=self._elsewhere)
        router.start()
        self._router = router
        if self.patch_sleep:
            self._sleep = self.virtual_sleep()
            self._sleep.__enter__()
        return self

    def stop(self) -> None:
        """Stop answering; httpx behaves normally again."""
        if self._sleep is not None:
            self._sleep.__exit__(None, None, None)
            self._sleep = None
        if self._router is not None:
            self._router.stop(quiet=True)
            self._router = None
        self._used = True

    def _answer(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self.handle(to_request(request, self._prefix)), request)

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
    config: ConfigLike = None,
    seed: int | None = None,
    clock: ClockLike = None,
    scenario: str | None = None,
    assert_all_mocked: bool = False,
    patch_sleep: bool = False,
    **options: Any,
) -> HttpxMock:
    """A mock of the API for httpx clients: a context manager and a decorator.

    Args:
        base_url: the URL the mocked API answers at (scheme, host, port and path prefix).
        config: a :class:`~sora_mock.config.MockConfig`, a mapping merged over the
            defaults, or a YAML file path.
        seed: makes task ids and character names reproducible.
        clock: a clock, or the start time of the :class:`~sora_mock.clock.VirtualClock`.
        scenario: sent as ``Prefer: scenario=NAME`` on requests that name none.
        assert_all_mocked: refuse requests to any other host instead of letting them out.
        patch_sleep: make ``time.sleep``/``asyncio.sleep`` in this thread advance the
            virtual clock while active (see :mod:`sora_mock.sleeps` for the trade-off).
        options: passed on to :class:`~sora_mock.inprocess.MockAPI` (``contract``, ``engine``).

    Example::

        @sora_mock.mock(seed=1)
        def test_client() -> None: ...

        with sora_mock.mock() as api:
            ...
            api.run_until_idle()
    """
    return HttpxMock(
        base_url=base_url,
        config=config,
        seed=seed,
        clock=clock,
        scenario=scenario,
        assert_all_mocked=assert_all_mocked,
        patch_sleep=patch_sleep,
        **options,
    )


def transport(
    *,
    config: ConfigLike = None,
    seed: int | None = None,
    clock: ClockLike = None,
    scenario: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    **options: Any,
) -> SoraTransport:
    """An ``httpx.MockTransport`` over a fresh mock; its handle is ``.api``.

    ``base_url`` only shapes the links the mock writes when a request does not say its own.
    """
    api = MockAPI(
        config=config, seed=seed, clock=clock, scenario=scenario, base_url=base_url, **options
    )
    return SoraTransport(api)
