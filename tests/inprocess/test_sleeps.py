"""Virtual sleeps: instant in the owning thread, real elsewhere, restored after."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sora_mock.engine import RealClock, VirtualClock
from sora_mock.errors import UsageError
from sora_mock.inprocess import virtual_sleep
from sora_mock.inprocess.sleeps import virtual_wait


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


def test_clocks_follow_the_virtual_clock_only_when_asked() -> None:
    real = (time.monotonic, time.perf_counter, time.time, time.monotonic_ns, time.time_ns)
    clock = VirtualClock(start=1_000_000)
    with virtual_sleep(clock):
        assert time.monotonic is real[0]  # sleeps only: the clocks are not even patched
    with virtual_sleep(clock, clocks=True):
        assert time.time() == 1_000_000
        mono, perf, mono_ns = time.monotonic(), time.perf_counter(), time.monotonic_ns()
        time.sleep(90)
        assert time.time() == 1_000_090
        assert time.time_ns() == 1_000_090 * 10**9
        assert time.monotonic() - mono == time.perf_counter() - perf == 90
        assert time.monotonic_ns() - mono_ns == pytest.approx(90 * 10**9, abs=1000)
    assert (time.monotonic, time.perf_counter, time.time, time.monotonic_ns, time.time_ns) == real


def test_other_threads_read_the_real_clocks() -> None:
    clock = VirtualClock(start=0)
    seen: list[float] = []
    with virtual_sleep(clock, clocks=True):
        thread = threading.Thread(target=lambda: seen.append(time.time()))
        thread.start()
        thread.join()
        assert time.time() == 0
    assert seen[0] > 1_600_000_000


def test_a_real_clock_can_drive_the_clocks_without_recursing() -> None:
    before = time.time()
    with virtual_sleep(RealClock(speed=1), clocks=True):
        time.sleep(3600)
        assert time.time() - before >= 3600  # RealClock reads time.time itself: the real one


def test_the_guard_runs_around_each_sleep_and_may_stop_the_thread() -> None:
    class Stop(BaseException):
        pass

    clock = VirtualClock(start=0)
    seen: list[float] = []

    def guard() -> None:
        seen.append(clock.now())
        if clock.now() > 100:
            raise Stop

    def client() -> None:
        for _ in range(10):
            try:
                time.sleep(60)
            except Exception:  # a client's retry loop does not catch the stop
                continue

    with virtual_sleep(clock, guard=guard), pytest.raises(Stop):
        client()
    assert seen == [0, 60, 60, 120]
    assert clock.now() == 120


def test_overlapping_threads_may_leave_in_any_order() -> None:
    real_sleep = time.sleep
    mine, theirs = VirtualClock(start=0), VirtualClock(start=0)
    entered, leave, left = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with virtual_sleep(theirs):
            time.sleep(5)
            entered.set()
            leave.wait(10)
        left.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(10)
    with virtual_sleep(mine):
        leave.set()
        assert left.wait(10)  # the other thread left first, while this one is still inside
        time.sleep(7)
    thread.join()
    assert (mine.now(), theirs.now()) == (7, 5)
    assert time.sleep is real_sleep


def test_virtual_wait_only_waits_on_virtual_time() -> None:
    clock = VirtualClock(start=0)
    assert virtual_wait(30) is False
    with virtual_sleep(clock):
        assert virtual_wait(30) is True
    assert clock.now() == 30
