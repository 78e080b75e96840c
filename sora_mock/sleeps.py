"""Virtual sleeps: ``time.sleep`` and ``asyncio.sleep`` that move a virtual clock instead.

A client that waits between polls with ``time.sleep(10)`` would make a test wait ten real
seconds. Inside :func:`virtual_sleep` that call returns at once and the mock's virtual clock
moves ten seconds forward, so the client sees the task progress exactly as it would have.

The trade-off: the patch replaces the attributes ``time.sleep``, ``asyncio.sleep`` (and
``asyncio.tasks.sleep``) process-wide while it is active. To keep other code's waits real,
only calls made from the thread that entered the block are virtual; calls from any other
thread (a server thread, a thread pool) sleep for real. Within that thread *every* sleep is
virtual, your own and your libraries' (retry back-offs included), and code that bound the
function earlier (``from time import sleep``) or waits by other means (``Event.wait``,
``asyncio.wait_for`` timeouts, ``loop.call_later``) is not affected.

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
from collections.abc import Iterator
from typing import Any, TypeVar
from unittest import mock

from sora_mock.clock import AdjustableClock

_T = TypeVar("_T")


@contextlib.contextmanager
def virtual_sleep(clock: AdjustableClock) -> Iterator[AdjustableClock]:
    """Within the block, sleeps in this thread advance ``clock`` instead of waiting."""
    if not isinstance(clock, AdjustableClock):
        from sora_mock.errors import UsageError

        raise UsageError(f"virtual sleeps need a clock that can move forward, not {clock!r}")
    owner = threading.get_ident()
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() != owner:
            real_sleep(seconds)
            return
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        clock.advance(seconds)

    async def async_sleep(delay: float, result: _T = None) -> _T:  # type: ignore[assignment]
        if threading.get_ident() != owner:
            return await real_async_sleep(delay, result)
        if delay > 0:
            clock.advance(delay)
        # Still yield to the event loop once, as a real sleep would.
        return await real_async_sleep(0, result)

    patches: list[Any] = [
        mock.patch.object(time, "sleep", sleep),
        mock.patch.object(asyncio, "sleep", async_sleep),
        mock.patch.object(asyncio.tasks, "sleep", async_sleep),
    ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield clock
