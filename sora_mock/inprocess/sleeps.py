"""Virtual time: one thread's sleeps (and, if asked, its clocks) follow a virtual clock.

A client that waits between polls with ``time.sleep(10)`` would make a test wait ten real
seconds. Inside :func:`virtual_sleep` that call returns at once and the mock's virtual clock
moves ten seconds forward, so the client sees the task progress exactly as it would have.
With ``clocks=True``, ``time.monotonic``, ``time.perf_counter`` and ``time.time`` (and their
``_ns`` forms) read the virtual clock too, so a client that keeps its own deadline ("give up
after ten minutes") gives up after ten mock minutes.

The trade-off: while any block is active, the attributes ``time.sleep``, ``asyncio.sleep``
and ``asyncio.tasks.sleep`` (and, while a block with ``clocks=True`` is active, the clock
readers) are replaced process-wide by functions that look at the calling thread. Only
threads inside a block get virtual time; any other thread (a server, a thread pool,
``asyncio.to_thread``) keeps the real functions. Within such a thread *every* sleep is
virtual, your own and your libraries' (retry back-offs included); with ``clocks=True`` so is
every clock reading, asyncio's loop time among them. Code that bound the function earlier
(``from time import sleep``) or waits by other means (``Event.wait``, ``asyncio.wait_for``
timeouts, ``loop.call_later``) is not affected. Blocks nest (the innermost decides), threads
may enter and leave theirs in any order, and the originals return when the last one ends.

Example::

    clock = VirtualClock()
    with virtual_sleep(clock):
        time.sleep(150)      # returns at once
    clock.now()              # 150 seconds later than before
"""

from __future__ import annotations

import asyncio
import asyncio.tasks
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sora_mock.engine import AdjustableClock
from sora_mock.inprocess._patching import SharedPatch

_T = TypeVar("_T")

#: The relative clocks: a virtual reading is the real one at entry plus mock time since.
_RELATIVE = ("monotonic", "perf_counter")


@dataclass(eq=False)
class _Binding:
    clock: AdjustableClock
    clocks: bool
    guard: Callable[[], None] | None
    start: float
    origins: dict[str, float]
    reading: bool = False  # set while asking the clock, which may read time.time itself


_lock = threading.Lock()
_bindings: dict[int, list[_Binding]] = {}


def _current() -> _Binding | None:
    stack = _bindings.get(threading.get_ident())
    return stack[-1] if stack else None


def _advance(binding: _Binding, seconds: float) -> None:
    # The guard runs on both sides: it may refuse to start a sleep and may stop the thread
    # once the sleep has taken it past a limit.
    if binding.guard is not None:
        binding.guard()
    binding.clock.advance(seconds)
    if binding.guard is not None:
        binding.guard()


def _sleep(seconds: float) -> None:
    binding = _current()
    if binding is None:
        _SLEEPS.real["sleep"](seconds)
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    _advance(binding, seconds)


async def _async_sleep(delay: float, result: _T = None) -> _T:  # type: ignore[assignment]
    binding = _current()
    if binding is None:
        return await _SLEEPS.real["asyncio.sleep"](delay, result)  # type: ignore[no-any-return]
    _advance(binding, max(0.0, delay))
    # Still yield to the event loop once, as a real sleep would.
    return await _SLEEPS.real["asyncio.sleep"](0, result)  # type: ignore[no-any-return]


def _reading(name: str) -> float | None:
    """The virtual reading of clock ``name`` for this thread, or None to read the real one."""
    binding = _current()
    if binding is None or not binding.clocks or binding.reading:
        return None
    binding.reading = True
    try:
        now = binding.clock.now()
    finally:
        binding.reading = False
    return now if name == "time" else binding.origins[name] + now - binding.start


def _reader(name: str) -> Callable[[], float]:
    def read() -> float:
        value = _reading(name)
        return float(_CLOCKS.real[name]()) if value is None else value

    read.__name__ = read.__qualname__ = name
    return read


def _reader_ns(name: str) -> Callable[[], int]:
    def read_ns() -> int:
        value = _reading(name)
        return int(_CLOCKS.real[f"{name}_ns"]()) if value is None else round(value * 1e9)

    read_ns.__name__ = read_ns.__qualname__ = f"{name}_ns"
    return read_ns


_SLEEPS = SharedPatch(
    {
        "sleep": (time, "sleep", _sleep),
        "asyncio.sleep": (asyncio, "sleep", _async_sleep),
        "asyncio.tasks.sleep": (asyncio.tasks, "sleep", _async_sleep),
    }
)
_CLOCKS = SharedPatch(
    {
        **{name: (time, name, _reader(name)) for name in (*_RELATIVE, "time")},
        **{f"{name}_ns": (time, f"{name}_ns", _reader_ns(name)) for name in (*_RELATIVE, "time")},
    }
)


@contextlib.contextmanager
def virtual_sleep(
    clock: AdjustableClock,
    *,
    clocks: bool = False,
    guard: Callable[[], None] | None = None,
) -> Iterator[AdjustableClock]:
    """Within the block, sleeps in this thread advance ``clock`` instead of waiting.

    Args:
        clock: the clock sleeps move forward (a :class:`~sora_mock.engine.VirtualClock`).
        clocks: also make this thread's ``time.monotonic``, ``time.perf_counter`` and
            ``time.time`` (and ``*_ns``) follow ``clock``: ``time.time`` reads it, the other
            two go on from their reading at entry by the mock time passed since.
        guard: called before and after each virtual sleep; it may raise to stop the thread
            (the conformance harness stops a client that runs too long this way).
    """
    if not isinstance(clock, AdjustableClock):
        from sora_mock.errors import UsageError

        raise UsageError(f"virtual sleeps need a clock that can move forward, not {clock!r}")
    ident = threading.get_ident()
    # Read through the current functions, so that a nested block goes on from what the
    # thread saw rather than jumping back to real time.
    origins = {name: getattr(time, name)() for name in _RELATIVE}
    binding = _Binding(clock, clocks, guard, clock.now(), origins)
    with _SLEEPS.applied(), _CLOCKS.applied() if clocks else contextlib.nullcontext():
        with _lock:
            _bindings.setdefault(ident, []).append(binding)
        try:
            yield clock
        finally:
            with _lock:
                stack = _bindings[ident]
                stack.remove(binding)
                if not stack:
                    del _bindings[ident]


def virtual_wait(seconds: float) -> bool:
    """Let ``seconds`` pass as a sleep in this thread would, if its sleeps are virtual.

    Returns False, doing nothing, when this thread is in no :func:`virtual_sleep` block: the
    in-process doors use it to carry out a response's latency without ever waiting for real.
    """
    binding = _current()
    if binding is None:
        return False
    _advance(binding, max(0.0, seconds))
    return True
