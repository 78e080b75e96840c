"""Where the mock's time comes from: a real clock with a speed factor, or a virtual one.

Nothing else in sora-mock reads the system time; everything asks a :class:`Clock`.

Example::

    clock = VirtualClock()
    clock.advance(150)   # a whole default lifecycle, instantly
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

#: The vendor's example creation time; virtual clocks start here unless told otherwise.
DEFAULT_EPOCH = 1767917446.0


@runtime_checkable
class Clock(Protocol):
    """A source of mock time in unix seconds."""

    def now(self) -> float:
        """The current mock time."""
        ...


@runtime_checkable
class AdjustableClock(Clock, Protocol):
    """A clock that can also be moved forward (both built-in clocks can)."""

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; return the new time."""
        ...

    def set(self, when: float) -> float:
        """Jump forward to ``when``; return the new time."""
        ...


class RealClock:
    """Wall-clock time that runs ``speed`` times faster than real time from its creation.

    It can be moved forward too (``advance``/``set``), for skipping ahead on a live server.
    """

    def __init__(self, speed: float = 1.0, origin: float | None = None) -> None:
        """``origin`` (unix seconds, default now) is where mock and real time meet; worker
        processes that share one origin and speed share one mock time."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self.origin = time.time() if origin is None else origin
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Mock time: the origin plus real time since then times ``speed``, plus skips."""
        return self.origin + (time.time() - self.origin) * self.speed + self._offset

    def advance(self, seconds: float) -> float:
        """Skip ``seconds`` of mock time ahead (never backwards)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back; got advance({seconds})")
        with self._lock:
            self._offset += seconds
        return self.now()

    def set(self, when: float) -> float:
        """Skip ahead to mock time ``when``, which must not be earlier than now."""
        with self._lock:
            gap = when - self.now()
            if gap < 0:
                raise ValueError(f"a clock cannot go back from {self.now()} to {when}")
            self._offset += gap
        return self.now()


class VirtualClock:
    """Time that moves only when told to. Thread-safe."""

    #: Mock seconds per second of the test's own (patched or advanced) time.
    speed = 1.0

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current virtual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back; got advance({seconds})")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> float:
        """Jump to ``when``, which must not be earlier than now."""
        with self._lock:
            if when < self._now:
                raise ValueError(f"a clock cannot go back from {self._now} to {when}")
            self._now = float(when)
            return self._now
