"""Attribute patches shared by every user that needs them at the same time, and their users.

``unittest.mock.patch`` restores what it saw when it started, so two overlapping users that
leave in the wrong order (two threads, say) leave the process patched for good. A
:class:`SharedPatch` is applied when its first user arrives and undone when its last one
leaves, whatever the order; the replacements decide per call (per thread, per URL) what to
do and fall back to :attr:`SharedPatch.real`. Used for virtual time
(:mod:`sora_mock.inprocess.sleeps`) and for routing httpx in-process
(:mod:`sora_mock.inprocess.httpx_route`). A :class:`Registry` holds what a patch's
replacements consult (the active routes, the active guards).

Example::

    patch = SharedPatch({"sleep": (time, "sleep", fake_sleep)})
    with patch.applied():
        time.sleep(1)           # fake_sleep, which may call patch.real["sleep"]
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")


class SharedPatch:
    """Replacements for attributes (``key: (owner, attribute, replacement)``), reference-counted.

    :attr:`real` holds what each replacement stands in for. It is never emptied, so a
    replacement that outlives the patch (bound by name while it was active) still works.
    """

    def __init__(self, targets: Mapping[str, tuple[Any, str, Any]]) -> None:
        self.targets = dict(targets)
        self.real: dict[str, Any] = {}
        self.users = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Count one more user; the first one applies the replacements."""
        with self._lock:
            self.users += 1
            if self.users > 1:
                return
            for key, (owner, attribute, replacement) in self.targets.items():
                current = getattr(owner, attribute)
                # Ours can still be there, under someone else's patch that put it back.
                if current is not replacement:
                    self.real[key] = current
                setattr(owner, attribute, replacement)

    def release(self) -> None:
        """Count one user fewer; the last one puts the real attributes back."""
        with self._lock:
            self.users -= 1
            if self.users > 0:
                return
            for key, (owner, attribute, replacement) in self.targets.items():
                # A patch applied on top of ours is left alone; its owner restores ours,
                # which then falls through to ``real``.
                if getattr(owner, attribute) is replacement:
                    setattr(owner, attribute, self.real[key])

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """The replacements, applied for the block (for this user)."""
        self.acquire()
        try:
            yield
        finally:
            self.release()


class Registry(Generic[_T]):
    """The active entries, oldest first, that patched functions read on every call.

    :attr:`entries` is replaced under a lock, never changed in place, so readers need no lock.
    """

    def __init__(self) -> None:
        self.entries: tuple[_T, ...] = ()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def added(self, entry: _T) -> Iterator[_T]:
        """``entry`` among the active ones for the block."""
        with self._lock:
            self.entries = (*self.entries, entry)
        try:
            yield entry
        finally:
            with self._lock:
                self.entries = tuple(e for e in self.entries if e is not entry)
