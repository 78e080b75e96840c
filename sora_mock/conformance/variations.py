"""Spec-valid but unusual task bodies: optional fields left out, unknown fields added,
odd progress curves, whole-number values at their bounds, tasks that end at once.

Which fields are optional and which objects exist is read from the schema of the read
operation's 200 answer for the model under test, and which whole numbers a task shows from
the model's values and the task template, so every variation stays valid against the spec.
A :class:`Variation` changes the task plan (through a scenario) and rewrites each rendered
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

from sora_mock.contract import Contract, TaskModel

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: Upper bound of a generated whole number whose schema gives none.
DEFAULT_MAXIMUM = 100_000


@dataclass(frozen=True)
class NumberSlot:
    """A whole-number value of the model that the task body shows: its name, the dotted
    path where it shows, and the bounds its schema gives."""

    name: str
    where: str
    minimum: int | None = None
    maximum: int | None = None

    def allows(self, number: int) -> bool:
        """True when the schema accepts ``number`` here."""
        low = self.minimum is None or number >= self.minimum
        return low and (self.maximum is None or number <= self.maximum)

    def describe_bounds(self) -> str:
        """E.g. ``valid: a minimum of 0``."""
        bounds = [f"a minimum of {self.minimum}"] if self.minimum is not None else []
        bounds += [f"a maximum of {self.maximum}"] if self.maximum is not None else []
        return f"valid: {' and '.join(bounds)}" if bounds else "valid: no bounds"

    @property
    def bounds(self) -> tuple[int, int]:
        """The range generated values are drawn from."""
        low = self.minimum if self.minimum is not None else 0
        return low, self.maximum if self.maximum is not None else max(low, DEFAULT_MAXIMUM)


@dataclass(frozen=True)
class BodyShape:
    """What the spec says about a task body: optional field paths, the object paths, the
    known fields of each object, and the whole-number values it shows."""

    optional: tuple[str, ...]
    objects: tuple[str, ...]
    known: Mapping[str, frozenset[str]]
    numbers: tuple[NumberSlot, ...] = ()

    @classmethod
    def from_contract(cls, contract: Contract, model: str | None = None) -> BodyShape:
        """Read the shape of a task of ``model`` (default: the contract's first) from the read
        operation's 200 response schema."""
        tasks = contract.tasks
        chosen = tasks.models[model] if model is not None else next(iter(tasks.models.values()))
        answer = contract.response_schema(tasks.read.operation_id, 200) or {}
        schema = _model_branch(contract, contract.resolve(answer), tasks.model_field, chosen.name)
        # Fields an if/then makes required (a result, an error) are not free to leave out.
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
        numbers = tuple(_number_slots(contract, chosen, schema))
        return cls(tuple(optional), tuple(objects), known, numbers)


@cache
def body_shape(contract: Contract, model: str | None = None) -> BodyShape:
    """The (cached) body shape of a task of ``model`` in ``contract``."""
    return BodyShape.from_contract(contract, model)


def _model_branch(
    contract: Contract, schema: Mapping[str, Any], model_field: str, model: str
) -> Mapping[str, Any]:
    """The part of a merged schema (an ``allOf`` of ``if model in [...] then X``) that
    applies to ``model``; any other schema as it is."""
    for branch in schema.get("allOf", []):
        condition = branch.get("if") if isinstance(branch, Mapping) else None
        field = ((condition or {}).get("properties") or {}).get(model_field)
        if not isinstance(field, Mapping) or "then" not in branch:
            continue
        names = [field["const"]] if "const" in field else list(field.get("enum", ()))
        if model in names:
            resolved: Mapping[str, Any] = contract.resolve(branch["then"])
            return resolved
    return schema


def _number_slots(contract: Contract, model: TaskModel, schema: Mapping[str, Any]) -> Any:
    """The model's whole-number values the task template shows whole, where the schema
    there is an integer."""
    template = contract.tasks.task
    for name, value in model.values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        for path in template.paths(name):
            node = _schema_at(contract, schema, path)
            if node is not None and node.get("type") == "integer":
                where = ".".join(str(part) for part in path)
                yield NumberSlot(name, where, node.get("minimum"), node.get("maximum"))
                break


def _schema_at(
    contract: Contract, schema: Mapping[str, Any], path: tuple[str | int, ...]
) -> Mapping[str, Any] | None:
    node: Any = schema
    for part in path:
        properties = contract.resolve(node).get("properties") if isinstance(node, Mapping) else None
        node = (properties or {}).get(part)
        if node is None:
            return None
    resolved: Mapping[str, Any] = contract.resolve(node)
    return resolved


@dataclass(frozen=True)
class SetValue:
    """A value the task reports set to ``value`` (``where``: the dotted path it shows at)."""

    name: str
    where: str
    value: int


@dataclass(frozen=True)
class Variation:
    """A change to every task body the mock serves; the empty variation changes nothing.

    ``extra`` holds ``(object path, field name, JSON text of the value)``; the object path is
    ``""`` for the top level. Extra fields go only into objects the body has.
    """

    drop: tuple[str, ...] = ()
    extra: tuple[tuple[str, str, str], ...] = ()
    values: tuple[SetValue, ...] = ()
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
        if self.values:
            task["result"] = {change.name: change.value for change in self.values}
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
        lines += [f"{change.where} = {change.value}" for change in self.values]
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
            "values": [
                {"name": change.name, "at": change.where, "value": change.value}
                for change in self.values
            ],
            "progress_curve": None if self.progress_curve is None else list(self.progress_curve),
            "instant": self.instant,
        }


def fixed_variations(contract: Contract, model: str | None = None) -> dict[str, Variation]:
    """The named variations of the matrix: every optional field absent; unknown fields."""
    shape = body_shape(contract, model)
    samples = ['{"id":"trace-1","hops":[1,2]}', "3", "null", "true", '"beta"']
    extra = tuple(
        (where, f"x_{where or 'top'}_extra", samples[i % len(samples)])
        for i, where in enumerate(shape.objects)
    )
    return {
        "optional-fields-absent": Variation(drop=shape.optional),
        "unknown-fields": Variation(extra=extra),
    }


def variations(contract: Contract, model: str | None = None) -> SearchStrategy[Variation]:
    """Hypothesis strategy of spec-valid variations of a task of ``model``; shrinks towards
    the plain task."""
    from hypothesis import strategies as st

    shape = body_shape(contract, model)
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
        values=st.tuples(
            *(
                st.none()
                | st.builds(SetValue, st.just(s.name), st.just(s.where), st.integers(*s.bounds))
                for s in shape.numbers
            )
        ).map(lambda chosen: tuple(c for c in chosen if c is not None)),
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
