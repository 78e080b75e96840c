"""Records kept as flat tuples, so that the cycle collector stops walking them.

A long-running mock keeps many records (tasks, journal entries). A dataclass instance is
walked by every full collection; a tuple of strings, numbers and ``None`` is untracked by
the first collection that sees it. :class:`RowCodec` converts a dataclass to such a tuple
and back, field by field as :func:`dataclasses.fields` lists them.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: A record as kept: its fields' values in field order.
Row = tuple[Any, ...]


class RowCodec(Generic[T]):
    """Converts records of dataclass ``cls`` to rows and back.

    The values of the ``shared`` fields (few distinct values, used by many records, such as
    a task's plan) are kept once in a table and stored by their index there, so that the
    row holds only atomic values. Shared values must be hashable; equal values share one
    entry. An empty value of a ``blank`` field (a container, usually empty) is stored as
    None and read back as a new one from the field's ``default_factory``.

    Example::

        codec = RowCodec(Task, shared=("plan", "defaults"))
        assert codec.decode(codec.encode(task)) == task
    """

    def __init__(
        self, cls: type[T], *, shared: Iterable[str] = (), blank: Iterable[str] = ()
    ) -> None:
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        names = list(fields)
        shared, blank = tuple(shared), tuple(blank)
        unknown = set(shared + blank) - set(names)
        if unknown:
            raise ValueError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
        self.cls = cls
        self.names = tuple(names)
        get = operator.attrgetter(*names)
        self._values: Callable[[T], Row] = get if len(names) > 1 else lambda r: (get(r),)
        self._shared_at = tuple(names.index(name) for name in shared)
        self._blank_at = tuple((names.index(name), _factory(fields[name])) for name in blank)
        self._converts = bool(shared or blank)
        self._table: list[Hashable] = []
        self._index: dict[Hashable, int] = {}

    def encode(self, record: T) -> Row:
        """The row of ``record``."""
        row = self._values(record)
        if not self._converts:
            return row
        values = list(row)
        for at in self._shared_at:
            values[at] = self._intern(values[at])
        for at, _ in self._blank_at:
            values[at] = values[at] or None
        return tuple(values)

    def decode(self, row: Row) -> T:
        """The record a row was made from (a new object)."""
        if self._converts:
            values = list(row)
            for at in self._shared_at:
                values[at] = self._table[values[at]]
            for at, empty in self._blank_at:
                if values[at] is None:
                    values[at] = empty()
            row = tuple(values)
        return self.cls(*row)

    def clear(self) -> None:
        """Forget the shared values (no row made so far can be decoded after)."""
        self._table.clear()
        self._index.clear()

    def _intern(self, value: Hashable) -> int:
        at = self._index.get(value)
        if at is None:
            at = self._index[value] = len(self._table)
            self._table.append(value)
        return at


def _factory(field: dataclasses.Field[Any]) -> Callable[[], Any]:
    factory = field.default_factory
    if factory is dataclasses.MISSING:
        raise ValueError(f"field {field.name!r} has no default_factory to read a blank back")
    return factory
