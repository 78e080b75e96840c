"""Virtual sleeps: instant in the owning thread, real elsewhere, restored after."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sora_mock.clock import RealClock, VirtualClock
from sora_mock.errors import UsageError
from sora_mock.sleeps import virtual_sleep


def test_time_sleep_advances_the_clock_instantly() -> None:
    clock = VirtualClock(start=0)
    real_sleep = time.sleep
    started = time.perf_counter()
    with virtual_sleep(clock):
        time.sleep(3600)
        time.sleep(0.5)
        with pytest.raises(ValueError, match="non-negative"):
            time.sleep(-1)
    assert time.perf_counter() - started < 0.5
    assert clock.now() == 3600.5
    assert time.sleep is real_sleep


def test_asyncio_sleep_advances_the_clock_and_still_yields() -> None:
    clock = VirtualClock(start=0)
    order: list[str] = []

    async def sleeper(name: str, seconds: float) -> str:
        await asyncio.sleep(seconds)
        order.append(name)
        return name

    async def main() -> list[str]:
        return list(await asyncio.gather(sleeper("a", 600), sleeper("b", 0), sleeper("c", -1)))

    real_sleep = asyncio.sleep
    with virtual_sleep(clock):
        assert asyncio.run(main()) == ["a", "b", "c"]
        assert asyncio.run(asyncio.sleep(5, result="r")) == "r"
    assert clock.now() == 605
    assert sorted(order) == ["a", "b", "c"]
    assert asyncio.sleep is real_sleep


def test_other_threads_sleep_for_real() -> None:
    clock = VirtualClock(start=0)
    slept: list[float] = []

    def other() -> None:
        started = time.perf_counter()
        time.sleep(0.05)
        slept.append(time.perf_counter() - started)

    with virtual_sleep(clock):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert clock.now() == 0  # the other thread's sleep did not move the clock
    assert slept[0] >= 0.04


def test_nested_blocks_restore_in_order() -> None:
    outer, inner = VirtualClock(start=0), VirtualClock(start=0)
    with virtual_sleep(outer):
        with virtual_sleep(inner):
            time.sleep(1)
        time.sleep(2)
    assert (outer.now(), inner.now()) == (2, 1)


class _FixedClock:
    def now(self) -> float:
        return 0.0


def test_only_a_clock_that_moves_can_drive_sleeps() -> None:
    with (
        pytest.raises(UsageError, match="can move forward"),
        virtual_sleep(_FixedClock()),  # type: ignore[arg-type]
    ):
        pass
    real = RealClock(speed=1)
    before = real.now()
    with virtual_sleep(real):
        time.sleep(3600)
    assert real.now() >= before + 3600
