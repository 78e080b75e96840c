"""A task as the state file stores it: JSON text of what it was created with (its read state,
polls and end time, has columns of its own), and the decoded row a store keeps beside the file.

The text is written by orjson, about ten times faster than the standard library, whenever it
writes the data exactly: orjson writes a non-finite number as ``null`` and refuses integers
past 64 bits, which a configuration may put in a plan or reported values (an infinite
retention, say); the standard library writes those. Tasks share plans and reported values,
so which one fits is worked out once per pair. The standard library reads every row (orjson
reads an integer past 64 bits as a float), only on a miss of the rows a store keeps decoded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from typing import Any

import orjson

from sora_mock.engine.lifecycle import Failure, Lifecycle
from sora_mock.engine.reported import Reported
from sora_mock.engine.store.task import Task

#: Most plan and reported pairs whose stored form a store keeps (one per model and scenario).
_SHARED_KEPT = 256
#: What a task was created with: its fields but its read state (which has columns).
_CREATED = tuple(f.name for f in dataclasses.fields(Task) if f.name not in ("polls", "ended_at"))
#: The integers orjson writes (it refuses the others).
_ORJSON_INTS = range(-(2**63), 2**64)


@dataclasses.dataclass(slots=True, frozen=True)
class Shared:
    """The stored form of a plan and reported values that many tasks share."""

    plan: Lifecycle
    reported: Reported
    plan_data: dict[str, Any]
    reported_data: dict[str, Any]
    exact: bool  # orjson writes both as they are

    @classmethod
    def of(cls, plan: Lifecycle, reported: Reported) -> Shared:
        """The stored form of ``plan`` and ``reported``."""
        plan_data = dataclasses.asdict(plan)
        reported_data = {"values": reported.values, "retention": reported.retention}
        exact = _orjson_exact(plan_data) and _orjson_exact(reported_data)
        return cls(plan, reported, plan_data, reported_data, exact)


class SharedForms:
    """The stored forms of the plan and reported pairs in use, made once each."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], Shared] = {}

    def of(self, task: Task) -> Shared:
        """The stored form of ``task``'s plan and reported values."""
        key = id(task.plan), id(task.reported)
        known = self._known.get(key)
        if known is None or known.plan is not task.plan or known.reported is not task.reported:
            if len(self._known) >= _SHARED_KEPT:
                self._known.clear()
            known = self._known[key] = Shared.of(task.plan, task.reported)
        return known


@dataclasses.dataclass(slots=True)
class StoredTask:
    """What a task was created with, as JSON-ready data, and whether orjson writes it exactly."""

    data: dict[str, Any]
    exact: bool

    @classmethod
    def of(cls, task: Task, forms: SharedForms | None = None) -> StoredTask:
        """The stored form of ``task`` (its plan and reported values' from ``forms``)."""
        shared = (forms or SharedForms()).of(task)
        data = {name: getattr(task, name) for name in _CREATED}
        data["plan"] = shared.plan_data
        data["reported"] = shared.reported_data
        return cls(data, shared.exact and data["draw"] in _ORJSON_INTS)

    def text(self) -> str:
        """The JSON text the file keeps."""
        encoded = None
        if self.exact:
            with contextlib.suppress(TypeError):  # a string orjson refuses (a lone surrogate)
                encoded = orjson.dumps(self.data).decode()
        return json.dumps(self.data) if encoded is None else encoded


@dataclasses.dataclass(slots=True)
class Row:
    """A task as the file holds it, decoded: what it was created with and its read state."""

    created: dict[str, Any]
    polls: int
    ended_at: float | None

    @classmethod
    def from_text(cls, text: str | bytes, polls: int, ended_at: float | None) -> Row:
        """The row of a task stored as ``text`` (:meth:`StoredTask.text`)."""
        data = json.loads(text)
        plan = dict(data["plan"])
        plan["failure"] = Failure(**plan["failure"])
        plan["progress_curve"] = tuple(plan["progress_curve"])
        created = {**data, "plan": Lifecycle(**plan), "reported": Reported(**data["reported"])}
        return cls(created, polls, ended_at)

    def task(self) -> Task:
        """A new task of this row (its plan and reported values shared)."""
        return Task(**self.created, polls=self.polls, ended_at=self.ended_at)


def _orjson_exact(value: Any) -> bool:
    """True when ``value`` is JSON data that orjson writes as the standard library does
    (it writes non-finite numbers as ``null``, refuses integers past 64 bits and non-string
    keys, and writes types the standard library refuses)."""
    if isinstance(value, dict):
        return all(type(key) is str and _orjson_exact(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_orjson_exact(item) for item in value)
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is int:
        return value in _ORJSON_INTS
    return value is None or type(value) in (str, bool)
