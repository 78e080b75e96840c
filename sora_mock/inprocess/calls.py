"""What a mock answered: each call (plain request, response, journal entry) and task state.

:class:`Calls` (of :data:`Call`, the engine's :class:`~sora_mock.engine.Exchange`) is what
:attr:`MockAPI.calls <sora_mock.inprocess.handle.MockAPI.calls>` returns: a snapshot of the
handle's :class:`~sora_mock.engine.Recorder`. :class:`TaskState` is one of its ``tasks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sora_mock.engine import Exchange

#: One call the mock answered: the engine's :class:`~sora_mock.engine.Exchange` (the plain
#: request and response, the journal entry, and what they say: ``status``, ``operation``,
#: ``task_id``, ``task_status``, ``json()``, ``describe()``), the record every tool reads.
#: An in-process call always has its journal entry.
Call = Exchange


class Calls(Sequence[Call]):
    """The calls a mock answered, oldest first, with a few filters."""

    def __init__(self, calls: Sequence[Call]) -> None:
        self._calls = list(calls)

    @overload
    def __getitem__(self, index: int) -> Call: ...
    @overload
    def __getitem__(self, index: slice) -> Calls: ...
    def __getitem__(self, index: int | slice) -> Call | Calls:
        if isinstance(index, slice):
            return Calls(self._calls[index])
        return self._calls[index]

    def __len__(self) -> int:
        return len(self._calls)

    def __repr__(self) -> str:
        origin = self._calls[0].time if self._calls else 0.0
        return f"Calls({[c.describe(origin) for c in self._calls]!r})"

    def filter(
        self,
        *,
        operation: str | None = None,
        task_id: str | None = None,
        status: int | None = None,
    ) -> Calls:
        """The calls matching every criterion given."""
        return Calls(
            [
                c
                for c in self._calls
                if (operation is None or c.operation == operation)
                and (task_id is None or c.task_id == task_id)
                and (status is None or c.status == status)
            ]
        )

    def where(self, test: Callable[[Call], bool]) -> Calls:
        """The calls for which ``test`` is true."""
        return Calls([c for c in self._calls if test(c)])

    @property
    def creates(self) -> Calls:
        """Calls to the contract's create operation."""
        return self.where(lambda call: call.is_create)

    @property
    def polls(self) -> Calls:
        """Calls to the contract's task read operation."""
        return self.where(lambda call: call.is_poll)

    @property
    def last(self) -> Call:
        """The newest call; IndexError when there is none."""
        if not self._calls:
            raise IndexError("no calls yet")
        return self._calls[-1]


@dataclass(frozen=True)
class TaskState:
    """A task as the mock holds it right now, and the body a poll would return."""

    id: str
    status: str
    progress: int
    scenario: str | None
    created_at: float
    #: When it ended, or ends on the clock alone (a lower bound for a task that also waits
    #: for status reads; ``inf`` for one that never finishes).
    ends_at: float
    polls: int
    body: Mapping[str, Any]
