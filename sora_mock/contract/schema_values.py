"""Values a contract's schemas accept, and values that break them one field at a time.

:class:`SchemaValues` turns the JSON Schema subset the specs use (``type``, ``enum``,
``const``, ``pattern``, ``format: uri``, lengths, bounds, ``properties``/``required``,
``$ref`` through the contract) and the ``x-sora-mock`` field rules (``span``, ``callback``)
into Hypothesis strategies; :data:`FIELD_KINDS` says, per kind of invalid create request,
which fields of a model can be broken and with what values. The public strategies are in
:mod:`sora_mock.contract.strategies`.
"""

from __future__ import annotations

import functools
import json
import operator
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from sora_mock.contract.request_check import CheckedBody, RequestCheck
from sora_mock.contract.request_rules import callback_url_problem, span_problem
from sora_mock.contract.task_api import FieldRule, TaskModel

if TYPE_CHECKING:
    import jsonschema_rs

    from sora_mock.contract.openapi import Contract

LOWER = string.ascii_lowercase
DIGITS = string.digits
LETTERS = string.ascii_letters
# Characters of generated URLs; a URL pattern's own URI characters are added to them.
URL_CHARACTERS = LETTERS + DIGITS + "-._~/:?#=&"
_URI_EXTRA = "[]@!$'()*+,;"
HOST = st.builds(
    lambda first, rest, tlds: first + rest + "".join(f".{t}" for t in tlds),
    st.sampled_from(LOWER),
    st.text(LOWER + DIGITS, max_size=10),
    st.lists(st.text(LOWER, min_size=2, max_size=6), min_size=1, max_size=2),
)
SEGMENT = st.text(LETTERS + DIGITS + "_-", min_size=1, max_size=12)
CREATED = st.integers(1_700_000_000, 2_000_000_000)
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_BOUND = 1_000_000  # the range of a number the schema does not bound
#: A value of each JSON type, for wrong-type cases.
_OF_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(LOWER + DIGITS, max_size=8),
    "integer": st.integers(0, 10),
    "number": st.integers(0, 10).map(lambda n: n + 0.5),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers(0, 3), max_size=2),
    "object": st.dictionaries(
        st.text(LOWER, min_size=1, max_size=3), st.integers(0, 3), max_size=2
    ),
}


class SchemaValues:
    """Strategies of one contract's schemas and models, each built once.

    Get one with :func:`schema_values_of` (cached per contract)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.tasks = contract.tasks
        self.check = RequestCheck(contract)
        self._fields: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
        self._bodies: dict[str, st.SearchStrategy[dict[str, Any]]] = {}

    def models(self, name: str | None) -> list[TaskModel]:
        """The model called ``name``, or every model when None (ValueError if unknown)."""
        if name is None:
            return list(self.tasks.models.values())
        if name not in self.tasks.models:
            known = ", ".join(self.tasks.models)
            raise ValueError(f"unknown model {name!r}; the contract has {known}")
        return [self.tasks.models[name]]

    def validator(self, schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
        """A compiled validator of ``schema``, the contract's components in scope."""
        return self.contract.schema_validator(schema)

    def properties(self, model: TaskModel) -> dict[str, Mapping[str, Any]]:
        """The model's request properties, each resolved, in documented order."""
        resolved = self.contract.resolve(model.request_schema)
        return {
            key: self.contract.resolve(value)
            for key, value in (resolved.get("properties") or {}).items()
        }

    def required(self, model: TaskModel) -> list[str]:
        """The request fields the model's schema requires."""
        resolved = self.contract.resolve(model.request_schema)
        return list(resolved.get("required") or ())

    # -- one schema

    def values(self, schema: Any, rule: FieldRule | None = None) -> st.SearchStrategy[Any]:
        """Values ``schema`` accepts (and ``rule``, the field's extension rule, keeps)."""
        schema = self.contract.resolve(schema)
        if not isinstance(schema, Mapping) or not schema:
            return JSON_VALUES
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(list(schema["enum"]))
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return st.one_of([self.values({**schema, "type": kind}, rule) for kind in kinds])
        if kinds == "string":
            return self._strings(schema, rule)
        if kinds in ("integer", "number"):
            return self._numbers(schema)
        if kinds == "boolean":
            return st.booleans()
        if kinds == "null":
            return st.none()
        if kinds == "array":
            return self._arrays(schema)
        if kinds == "object" or "properties" in schema:
            return self._objects(schema)
        return JSON_VALUES.filter(self.validator(schema).is_valid)

    def _strings(self, schema: Mapping[str, Any], rule: FieldRule | None) -> st.SearchStrategy[str]:
        validator = self.validator(schema)
        pattern = schema.get("pattern")
        uri = schema.get("format") == "uri"
        drawn: st.SearchStrategy[str]
        if rule is not None and rule.span_max is not None:
            drawn = _spans(rule.span_max)
        elif rule is not None and rule.callback:
            drawn = urls(st.just("https"))
        elif isinstance(pattern, str):
            alphabet = None
            if uri:
                extra = "".join(sorted(set(pattern) & set(_URI_EXTRA)))
                alphabet = st.sampled_from(URL_CHARACTERS + extra)
            drawn = st.from_regex(pattern, fullmatch=True, alphabet=alphabet)
        elif uri:
            drawn = urls()
        else:
            low = int(schema.get("minLength", 0))
            high = min(int(schema.get("maxLength", low + 20)), low + 20)
            drawn = st.text(st.characters(exclude_categories=["Cs"]), min_size=low, max_size=high)

        def fits(value: Any) -> bool:
            return isinstance(value, str) and validator.is_valid(value) and _keeps(rule, value)

        documented = [v for v in _documented(schema) if fits(v)]
        choices = st.one_of(st.sampled_from(documented), drawn) if documented else drawn
        return choices.filter(fits)

    def _numbers(self, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None:
            low = -_BOUND if high is None else high - _BOUND
        if high is None:
            high = low + _BOUND
        integers = st.integers(int(-(-low // 1)), int(high // 1))
        if schema["type"] == "integer":
            drawn: st.SearchStrategy[Any] = integers
        else:
            floats = st.floats(float(low), float(high), allow_nan=False, allow_infinity=False)
            drawn = st.one_of(integers, floats)
        validator = self.validator(schema)
        return drawn.filter(validator.is_valid)

    def _arrays(self, schema: Mapping[str, Any]) -> st.SearchStrategy[list[Any]]:
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + 3)), low + 3)
        items = self.values(schema.get("items") or {})
        unique = json.dumps if schema.get("uniqueItems") else None
        if unique is None:
            return st.lists(items, min_size=low, max_size=high)
        return st.lists(items, min_size=low, max_size=high, unique_by=unique)

    def _objects(self, schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        return st.fixed_dictionaries(
            {key: self.values(value) for key, value in properties.items() if key in required},
            optional={
                key: self.values(value) for key, value in properties.items() if key not in required
            },
        )

    # -- request bodies

    def field(self, model: TaskModel, name: str) -> st.SearchStrategy[Any]:
        """Valid values of the model's request field ``name`` (schema and rule)."""
        key = (model.name, name)
        if key not in self._fields:
            schema = self.properties(model)[name]
            self._fields[key] = self.values(schema, model.rules.get(name))
        return self._fields[key]

    def examples(self, model: TaskModel) -> list[dict[str, Any]]:
        """The model's documented request examples that the contract accepts."""
        return [
            dict(example)
            for example in self.contract.request_examples()
            if isinstance(example, Mapping)
            and example.get(self.tasks.model_field) == model.name
            and self.accepts(example)
        ]

    def accepts(self, body: Any) -> bool:
        """True when the contract accepts ``body`` as a create body."""
        return isinstance(body, Mapping) and isinstance(self.check.check(body), CheckedBody)

    def bodies(self, model: TaskModel) -> st.SearchStrategy[dict[str, Any]]:
        """Valid bodies of ``model``: its examples, then drawn ones."""
        if model.name not in self._bodies:
            properties = self.properties(model)
            optional = {
                key: self.field(model, key)
                for key in properties
                if key not in self._required(model)
            }
            bodies = st.fixed_dictionaries(self._required(model), optional=optional)
            resolved = self.contract.resolve(model.request_schema)
            if resolved.get("additionalProperties") is not False:
                extra = st.text(LOWER + "_", min_size=1, max_size=8).filter(
                    lambda key: key not in properties
                )
                bodies = st.builds(
                    lambda body, extras: {**extras, **body},
                    bodies,
                    st.dictionaries(extra, JSON_VALUES, max_size=2),
                )
            examples = self.examples(model)
            drawn = st.one_of(st.sampled_from(examples), bodies) if examples else bodies
            self._bodies[model.name] = drawn.filter(self.accepts)
        return self._bodies[model.name]

    def bases(self, model: TaskModel) -> st.SearchStrategy[dict[str, Any]]:
        """Valid bodies to break one field of: the required fields alone first (so a broken
        body shrinks to a short one), then any valid body."""
        minimal = st.fixed_dictionaries(self._required(model)).filter(self.accepts)
        return st.one_of(minimal, self.bodies(model))

    def _required(self, model: TaskModel) -> dict[str, st.SearchStrategy[Any]]:
        required = set(self.required(model))
        fields: dict[str, st.SearchStrategy[Any]] = {self.tasks.model_field: st.just(model.name)}
        for key in self.properties(model):
            if key in required and key not in fields:
                fields[key] = self.field(model, key)
        return fields


@functools.lru_cache(maxsize=8)
def schema_values_of(contract: Contract) -> SchemaValues:
    """The :class:`SchemaValues` of ``contract`` (the same object for the same contract)."""
    return SchemaValues(contract)


def _documented(schema: Mapping[str, Any]) -> list[Any]:
    found = [schema[key] for key in ("example", "default") if key in schema]
    return found + list(schema.get("examples") or ())


def _keeps(rule: FieldRule | None, value: str) -> bool:
    """True when ``value`` keeps the extension rule of its field."""
    if rule is None:
        return True
    if rule.span_max is not None and span_problem(value, rule.span_max) is not None:
        return False
    return not (rule.callback and callback_url_problem(value, rule.field, allow_loopback=False))


def urls(schemes: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """URLs on public host names: a scheme, a host, a path and maybe a query."""
    return st.builds(
        lambda scheme, host, path, query: f"{scheme}://{host}/{'/'.join(path)}{query}",
        schemes if schemes is not None else st.sampled_from(["https", "http"]),
        HOST,
        st.lists(SEGMENT, max_size=3),
        st.one_of(st.just(""), SEGMENT.map(lambda q: f"?sig={q}")),
    )


def _spans(max_span: float) -> st.SearchStrategy[str]:
    """``start,end`` texts with ``0 < end - start <= max_span``: whole seconds, decimals
    and spaces around the numbers."""
    whole_max = max(1, int(max_span))
    tenths_max = max(1, int(max_span * 10))

    def decimal(start_tenths: int, span_tenths: int, places: int, spaced: bool) -> str:
        start, end = start_tenths / 10, (start_tenths + span_tenths) / 10
        text = (f"{start:.{places}f}", f"{end:.{places}f}")
        return (" , " if spaced else ",").join(text)

    whole = st.tuples(st.integers(0, 3600), st.integers(1, whole_max)).map(
        lambda t: f"{t[0]},{t[0] + t[1]}"
    )
    decimals = st.builds(
        decimal, st.integers(0, 36000), st.integers(1, tenths_max), st.integers(1, 3), st.booleans()
    )
    padded = whole.map(lambda text: f" {text.replace(',', ', ')} ")
    return st.one_of(whole, decimals, padded)


def _bad_spans(max_span: float) -> st.SearchStrategy[str]:
    """``start,end`` texts whose span is empty, reversed or wider than ``max_span``."""
    wide = st.builds(
        lambda start, extra: f"{start},{start + max_span + extra / 10:g}",
        st.integers(0, 600),
        st.integers(1, 600),
    )
    empty = st.tuples(st.integers(0, 600), st.integers(0, 5)).map(lambda t: f"{t[0] + t[1]},{t[0]}")
    return st.one_of(wide, empty)


@dataclass(frozen=True)
class Break:
    """One way to break one field of a model's bodies: its field and the bad values
    (None: the field is left out)."""

    field: str
    values: st.SearchStrategy[Any] | None = None


def _missing_field(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field in dict.fromkeys([schemas.tasks.model_field, *schemas.required(model)]):
        yield Break(field)


def _wrong_type(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, schema in schemas.properties(model).items():
        kinds = schema.get("type")
        allowed = set(kinds if isinstance(kinds, list) else [kinds] if kinds else [])
        if not allowed:
            continue
        if "number" in allowed:
            allowed.add("integer")
        others = [_OF_TYPE[kind] for kind in _OF_TYPE if kind not in allowed]
        yield Break(field, st.one_of(others))


def _enum_violation(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, schema in schemas.properties(model).items():
        if field == schemas.tasks.model_field:
            continue
        allowed = [schema["const"]] if "const" in schema else list(schema.get("enum") or ())
        if not allowed:
            continue
        values: st.SearchStrategy[Any]
        if all(isinstance(v, str) for v in allowed):
            near = [str(v).upper() for v in allowed] + [f"{v} " for v in allowed] + [""]
            values = st.one_of(st.sampled_from(near), st.text(LOWER + DIGITS, max_size=8))
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in allowed):
            values = st.one_of(st.integers(-1, 20), st.integers())
        else:
            continue
        yield Break(field, values.filter(functools.partial(_outside, allowed)))


def _outside(allowed: list[Any], value: Any) -> bool:
    return value not in allowed


def _pattern_violation(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, schema in schemas.properties(model).items():
        items = schemas.contract.resolve(schema.get("items") or {})
        if schema.get("type") == "string" and isinstance(schema.get("pattern"), str):
            yield Break(field, _breaking(schemas, schema))
        elif schema.get("type") == "array" and isinstance(items.get("pattern"), str):
            size = max(1, int(schema.get("minItems", 1)))
            if size <= int(schema.get("maxItems", size)):
                bad = _breaking(schemas, items)
                yield Break(field, st.lists(bad, min_size=size, max_size=size))


def _breaking(schemas: SchemaValues, schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    """Strings that break the pattern of ``schema``."""
    pattern = schemas.validator({"type": "string", "pattern": schema["pattern"]})
    documented = [v for v in _documented(schema) if isinstance(v, str)]
    # Mostly a documented value with its end changed: what a client gets wrong in practice.
    near = (
        [f"{v}~" for v in documented]
        + [f"{v}.txt" for v in documented]
        + [f"{v}/" for v in documented]
        + [v[:-1] for v in documented]
        + [f" {v}" for v in documented]
        + ["not a match", "ftp://example.com/x"]
    )
    text = st.text(URL_CHARACTERS + " ", min_size=1, max_size=30)
    return st.one_of(st.sampled_from(near), text).filter(lambda v: not pattern.is_valid(v))


def _bounds_violation(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, schema in schemas.properties(model).items():
        kind = schema.get("type")
        if kind == "string" and int(schema.get("minLength", 0)) > 0:
            yield Break(field, st.text(LOWER, max_size=int(schema["minLength"]) - 1))
        if kind == "string" and "maxLength" in schema:
            size = int(schema["maxLength"]) + 1
            yield Break(field, st.text(LOWER, min_size=size, max_size=size + 3))
        if kind == "array" and "maxItems" in schema:
            size = int(schema["maxItems"]) + 1
            items = schemas.values(schema.get("items") or {})
            yield Break(field, st.lists(items, min_size=size, max_size=size))
        if kind == "array" and int(schema.get("minItems", 0)) > 0:
            yield Break(field, st.just([]))
        if kind in ("integer", "number") and "enum" not in schema:
            steps = st.integers(1, 100)
            if "minimum" in schema:
                yield Break(field, steps.map(functools.partial(operator.sub, schema["minimum"])))
            if "maximum" in schema:
                yield Break(field, steps.map(functools.partial(operator.add, schema["maximum"])))


def _span_violation(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, rule in model.rules.items():
        if rule.span_max is not None:
            validator = schemas.validator(schemas.properties(model)[field])
            yield Break(field, _bad_spans(rule.span_max).filter(validator.is_valid))


def _bad_callback(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    for field, rule in model.rules.items():
        if rule.callback:
            validator = schemas.validator(schemas.properties(model)[field])
            public = urls(st.just("http"))
            private = st.builds(
                lambda host, path: f"https://{host}/{path}",
                st.sampled_from(["127.0.0.1", "localhost", "10.0.0.1", "192.168.1.2", "[::1]"]),
                SEGMENT,
            )
            yield Break(field, st.one_of(public, private).filter(validator.is_valid))


def _unknown_model(schemas: SchemaValues, model: TaskModel) -> Iterator[Break]:
    known = set(schemas.tasks.models)
    near = [model.name.upper(), f"{model.name} ", model.name[:-1], ""]
    values = st.one_of(st.sampled_from(near), st.text(max_size=12))
    yield Break(schemas.tasks.model_field, values.filter(lambda v: v not in known))


FIELD_KINDS: dict[str, Callable[[SchemaValues, TaskModel], Iterator[Break]]] = {
    "missing_field": _missing_field,
    "wrong_type": _wrong_type,
    "enum_violation": _enum_violation,
    "pattern_violation": _pattern_violation,
    "bounds_violation": _bounds_violation,
    "span_violation": _span_violation,
    "bad_callback": _bad_callback,
    "unknown_model": _unknown_model,
}
