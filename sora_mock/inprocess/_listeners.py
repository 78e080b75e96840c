"""Listeners: what is told of each in-process mock built and each call it answers.

Tools above the in-process layer (the pytest plugin's contract coverage) observe the
traffic through this hook, so this layer knows none of them. Only the standard library is
imported here, so a listener is added without loading the engine or httpx.

Example::

    class Counter:
        def __init__(self) -> None:
            self.calls = 0

        def mock_created(self, api: MockAPI) -> None: ...

        def call_answered(self, api: MockAPI, call: Call) -> None:
            self.calls += 1

    counter = Counter()
    add_listener(counter)
    try:
        ...  # every MockAPI of the process tells counter
    finally:
        remove_listener(counter)
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sora_mock.inprocess.calls import Call
    from sora_mock.inprocess.handle import MockAPI


class MockListener(Protocol):
    """What a listener offers; each method runs in the thread that did the work."""

    def mock_created(self, api: MockAPI) -> None:
        """``api`` was just built: its engine and scenarios are ready, no call answered yet."""

    def call_answered(self, api: MockAPI, call: Call) -> None:
        """``api`` answered ``call`` and recorded it."""


# Replaced, never changed in place, so the mocks read it without a lock.
_listeners: tuple[MockListener, ...] = ()
_lock = threading.Lock()


def add_listener(listener: MockListener) -> None:
    """Tell ``listener`` of every mock built and every call answered from now on."""
    global _listeners
    with _lock:
        _listeners = (*_listeners, listener)


def remove_listener(listener: MockListener) -> None:
    """Stop telling ``listener`` (nothing happens if it was not added)."""
    global _listeners
    with _lock:
        _listeners = tuple(known for known in _listeners if known is not listener)


def listeners() -> tuple[MockListener, ...]:
    """The listeners added now, oldest first."""
    return _listeners
