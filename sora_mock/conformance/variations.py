"""Spec-valid but unusual task bodies: optional fields left out, unknown fields added,
odd progress curves, ``estimated_time`` 0, tasks that end at once.

Which fields are optional and which objects exist is read from the contract's
``TaskResponse`` schema, so every variation stays valid against the spec. A
:class:`Variation` changes the task plan (through a scenario) and rewrites each rendered
task body; :func:`variations` generates them with hypothesis, which shrinks one that breaks
a client down to a minimal example.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sora_mock.contract import Contract

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

GET_TASK = "getTaskDetail"


@dataclass(frozen=True)
class BodyShape:
    """What the spec says about a task body: optional field paths and the object paths."""

    optional: tuple[str, ...]
    objects: tuple[str, ...]
    known: Mapping[str, frozenset[str]]

    @classmethod
    def from_contract(cls, contract: Contract) -> BodyShape:
        """Read the shape from the ``getTaskDetail`` 200 response schema."""
        schema = contract.resolve(contract.response_schema(GET_TASK, 200))
        # Fields an if/then makes required (result_data, error) are not free to leave out.
        conditional = {
            name
            for part in schema.get("allOf", [])
            for name in part.get("then", {}).get("required", [])
        }
        optional: list[str] = []
        objects = [""]
        known = {"": frozenset(schema["properties"])}
        required = set(schema.get("required", [])) | conditional
        for name, sub in schema["properties"].items():
            if name not in required:
                optional.append(name)
            resolved = contract.resolve(sub)
            if resolved.get("type") == "object" and "properties" in resolved:
                objects.append(name)
                known[name] = frozenset(resolved["properties"])
                inner_required = set(resolved.get("required", []))
                optional += [
                    f"{name}.{p}" for p in resolved["properties"] if p not in inner_required
                ]
        return cls(tuple(optional), tuple(objects), known)


@cache
def body_shape(contract: Contract) -> BodyShape:
    """The (cached) body shape of ``contract``."""
    return BodyShape.from_contract(contract)


@dataclass(frozen=True)
class Variation:
    """A change to every task body the mock serves; the empty variation changes nothing.

    ``extra`` holds ``(object path, field name, JSON text of the value)``; the object path is
    ``""`` for the top level. Extra fields go only into objects the body has.
    """

    drop: tuple[str, ...] = ()
    extra: tuple[tuple[str, str, str], ...] = ()
    estimated_time: int | None = None
    video_duration: int | None = None
    progress_curve: tuple[int, ...] | None = None
    instant: bool = False

    @property
    def plain(self) -> bool:
        """True for the empty variation."""
        return self == Variation()

    def task(self) -> dict[str, Any]:
        """The scenario ``task`` mapping that carries the plan and result changes."""
        task: dict[str, Any] = {}
        if self.instant:
            task.update(pending_seconds=0, processing_seconds=0)
        if self.progress_curve is not None:
            task["progress_curve"] = list(self.progress_curve)
        result = {
            k: v
            for k, v in (
                ("estimated_time", self.estimated_time),
                ("video_duration", self.video_duration),
            )
            if v is not None
        }
        if result:
            task["result"] = result
        return task

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` with the fields left out and the extra fields added."""
        # Only top-level values and the fields of nested objects change: copy that deep.
        changed = {k: dict(v) if isinstance(v, dict) else v for k, v in body.items()}
        for path in self.drop:
            *parents, name = path.split(".")
            target = _object_at(changed, ".".join(parents))
            if target is not None:
                target.pop(name, None)
        for where, name, value in self.extra:
            target = _object_at(changed, where)
            if target is not None:
                target[name] = json.loads(value)
        return changed

    def describe(self) -> list[str]:
        """One line per change, for reports."""
        lines = [f"leave out {path}" for path in self.drop]
        lines += [f"add {_dotted(where, name)} = {value}" for where, name, value in self.extra]
        if self.estimated_time is not None:
            lines.append(f"task_info.estimated_time = {self.estimated_time}")
        if self.video_duration is not None:
            lines.append(f"task_info.video_duration = {self.video_duration}")
        if self.progress_curve is not None:
            lines.append(f"progress while processing: {list(self.progress_curve)}")
        if self.instant:
            lines.append("the task is already completed at the first status read")
        return lines or ["no change (the plain task)"]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "drop": list(self.drop),
            "extra": [
                {"at": where, "name": name, "value": json.loads(value)}
                for where, name, value in self.extra
            ],
            "estimated_time": self.estimated_time,
            "video_duration": self.video_duration,
            "progress_curve": None if self.progress_curve is None else list(self.progress_curve),
            "instant": self.instant,
        }


def fixed_variations(contract: Contract) -> dict[str, Variation]:
    """The named variations of the matrix: every optional field absent; unknown fields."""
    shape = body_shape(contract)
    samples = ['{"id":"trace-1","hops":[1,2]}', "3", "null", "true", '"beta"']
    extra = tuple(
        (where, f"x_{where or 'top'}_extra", samples[i % len(samples)])
        for i, where in enumerate(shape.objects)
    )
    return {
        "optional-fields-absent": Variation(drop=shape.optional),
        "unknown-fields": Variation(extra=extra),
    }


def variations(contract: Contract) -> SearchStrategy[Variation]:
    """Hypothesis strategy of spec-valid variations; shrinks towards the plain task."""
    from hypothesis import strategies as st

    shape = body_shape(contract)
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(10**6), 10**6)
        | st.floats(allow_nan=False, allow_infinity=False, width=32)
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(string.ascii_lowercase, max_size=4), inner, max_size=3)
        ),
        max_leaves=6,
    )
    names = st.text(string.ascii_lowercase, min_size=1, max_size=10)
    extra = st.tuples(st.sampled_from(shape.objects), names, json_values.map(json.dumps)).filter(
        lambda item: item[1] not in shape.known[item[0]]
    )
    curve = st.lists(st.integers(0, 99), min_size=1, max_size=5).map(lambda v: tuple(sorted(v)))
    return st.builds(
        Variation,
        drop=st.lists(st.sampled_from(shape.optional), unique=True).map(lambda v: tuple(sorted(v))),
        extra=st.lists(extra, max_size=3, unique_by=lambda item: (item[0], item[1])).map(tuple),
        estimated_time=st.none() | st.integers(0, 100_000),
        video_duration=st.none() | st.integers(0, 3600),
        progress_curve=st.none() | curve,
        instant=st.booleans(),
    )


def _object_at(body: dict[str, Any], where: str) -> dict[str, Any] | None:
    node: Any = body
    for part in where.split(".") if where else ():
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _dotted(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
