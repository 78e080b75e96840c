"""A private in-process door and virtual-time patching for the conformance harness.

TO BE REPLACED by the issue-4 door (``sora_mock.mock()`` / ``sora_mock.transport()`` and
its sleep patching) once that work is merged; keep this module tiny until then.

- :func:`serve_inprocess` routes every httpx request under a base URL to an engine
  (patching httpx's transports, so a client that builds its own ``httpx.Client`` is
  routed too).
- :func:`virtual_time` makes ``time.sleep``, ``asyncio.sleep``, ``time.monotonic``,
  ``time.perf_counter`` and ``time.time`` of the *calling thread* follow a virtual clock:
  sleeping advances it at once, so a polite client runs in milliseconds. Other threads
  keep the real functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sora_mock.clock import AdjustableClock
from sora_mock.messages import DOOR_FAULTS, Request

if TYPE_CHECKING:
    import httpx

    from sora_mock.engine import Engine


@dataclass
class _Binding:
    clock: AdjustableClock
    guard: Callable[[], None]
    origin: float
    real_origin: float


_lock = threading.Lock()
_bound: dict[int, _Binding] = {}
_real: dict[str, Any] = {}


def _binding() -> _Binding | None:
    return _bound.get(threading.get_ident())


def _sleep(seconds: float) -> None:
    binding = _binding()
    if binding is None:
        _real["sleep"](seconds)
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    binding.guard()
    binding.clock.advance(seconds)
    binding.guard()


async def _async_sleep(delay: float, result: Any = None) -> Any:
    if _binding() is None:
        return await _real["asyncio.sleep"](delay, result)
    _sleep(max(0.0, delay))
    await _real["asyncio.sleep"](0)
    return result


def _clock_reader(name: str, absolute: bool) -> Callable[[], float]:
    def read() -> float:
        binding = _binding()
        if binding is None:
            return float(_real[name]())
        if absolute:
            return binding.clock.now()
        return binding.real_origin + binding.clock.now() - binding.origin

    return read


_PATCHES: dict[str, tuple[Any, str, Any]] = {
    "sleep": (time, "sleep", _sleep),
    "monotonic": (time, "monotonic", _clock_reader("monotonic", absolute=False)),
    "perf_counter": (time, "perf_counter", _clock_reader("perf_counter", absolute=False)),
    "time": (time, "time", _clock_reader("time", absolute=True)),
    "asyncio.sleep": (asyncio, "sleep", _async_sleep),
}


@contextlib.contextmanager
def virtual_time(clock: AdjustableClock, guard: Callable[[], None]) -> Iterator[None]:
    """Bind the calling thread's sleeps and clocks to ``clock``; ``guard`` runs at each sleep
    and may raise to stop the client."""
    ident = threading.get_ident()
    with _lock:
        if not _bound:
            for key, (module, attribute, replacement) in _PATCHES.items():
                _real[key] = getattr(module, attribute)
                setattr(module, attribute, replacement)
        _bound[ident] = _Binding(clock, guard, clock.now(), _real["monotonic"]())
    try:
        yield
    finally:
        with _lock:
            del _bound[ident]
            if not _bound:
                for key, (module, attribute, _) in _PATCHES.items():
                    setattr(module, attribute, _real.pop(key))


@functools.lru_cache(maxsize=4)
def _shared_ssl_context(make: Callable[..., Any], verify: bool, trust_env: bool) -> Any:
    return make(verify=verify, trust_env=trust_env)


@contextlib.contextmanager
def serve_inprocess(engine: Engine, base_url: str, guard: Callable[[], None]) -> Iterator[None]:
    """Route httpx requests under ``base_url`` to ``engine``; ``guard`` runs before each.

    Every ``httpx`` transport is patched (as respx does, at a fraction of its cost per
    request), so a client that builds its own ``httpx.Client`` is routed too. Building
    an SSL context costs ~80 ms and routed requests never use one, so transports made
    meanwhile share one per setting.
    """
    import httpx
    from httpx._transports import default

    def answer(request: httpx.Request, body: bytes) -> httpx.Response:
        guard()
        response = engine.handle(
            Request.build(
                request.method,
                request.url.path,
                query=request.url.query.decode("ascii", "replace"),
                headers=request.headers.multi_items(),
                body=body,
                base_url=base_url,
            )
        )
        if response.delay > 0:
            read = request.extensions.get("timeout", {}).get("read")
            time.sleep(response.delay if read is None else min(response.delay, read))
            if read is not None and response.delay > read:
                raise httpx.ReadTimeout("sora-mock: the answer took too long", request=request)
        if response.fault in DOOR_FAULTS:
            raise httpx.RemoteProtocolError(f"sora-mock fault: {response.fault}", request=request)
        return httpx.Response(
            response.status, headers=list(response.headers), content=response.body
        )

    def ours(request: httpx.Request) -> bool:
        return str(request.url).startswith(base_url)

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request
    make_context = default.create_ssl_context  # type: ignore[attr-defined]

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        return answer(request, request.read()) if ours(request) else sync_send(self, request)

    async def handle_async_request(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        if ours(request):
            return answer(request, await request.aread())
        return await async_send(self, request)

    def ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if isinstance(verify, bool) and cert is None:
            return _shared_ssl_context(make_context, verify, trust_env)
        return make_context(verify=verify, cert=cert, trust_env=trust_env)

    patches = [
        (httpx.HTTPTransport, "handle_request", handle_request),
        (httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
        (default, "create_ssl_context", ssl_context),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
