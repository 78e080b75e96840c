"""Hypothesis strategies for a contract's create requests, task ids and task bodies.

Everything is drawn from the contract (default :meth:`Contract.bundled`): request bodies
from each model's request schema and its ``x-sora-mock`` field rules, task ids from the
contract's id pattern and id parameter, task bodies from the task templates and the
model's task schema. Every valid create body passes
:class:`~sora_mock.contract.RequestCheck` and is accepted by the mock; every
:class:`InvalidCreate` breaks one thing and carries the answer the contract says it gets;
every task body validates against its model's task schema. Documented examples come first
in each choice, so failures shrink to readable examples.

Functions about one model take ``model`` (default: every model of the contract, drawn in
turn).

Example::

    from hypothesis import given
    from sora_mock.contract import strategies

    @given(strategies.invalid_create_requests())
    def test_server_rejects(case):
        response = client.post(URL, content=case.body,
                               headers={"content-type": case.content_type, **auth})
        assert (response.status_code, response.json()["error"].get("param")) == (
            case.status, case.param)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from sora_mock.contract.openapi import Contract
from sora_mock.contract.schema_values import (
    CREATED,
    DIGITS,
    FIELD_KINDS,
    HOST,
    JSON_VALUES,
    LETTERS,
    LOWER,
    SEGMENT,
    Break,
    SchemaValues,
    schema_values_of,
)
from sora_mock.contract.task_api import PATTERN_PART, TaskModel

if TYPE_CHECKING:
    import jsonschema_rs

__all__ = [
    "INVALID_CREATE_KINDS",
    "STATUSES",
    "InvalidCreate",
    "InvalidTarget",
    "TaskIdCase",
    "any_create_bodies",
    "create_requests",
    "error_envelopes",
    "field_values",
    "invalid_create_kinds",
    "invalid_create_requests",
    "invalid_create_targets",
    "malformed_task_ids",
    "raw_bodies",
    "schema_values",
    "task_bodies",
    "task_id_cases",
    "task_id_kinds",
    "task_ids",
    "tokens",
    "unknown_task_ids",
    "valid_create_bodies",
    "valid_task_ids",
]

JSON_TYPE = "application/json"
#: The states of a task, as the task templates' built-in ``status`` value takes them.
STATUSES = ("pending", "processing", "completed", "failed")
_ENDED = ("completed", "failed")

# -- values of a schema ----------------------------------------------------------------------


def schema_values(
    schema: Mapping[str, Any], contract: Contract | None = None
) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (``$ref`` resolved through ``contract``).

    Covers the subset of JSON Schema the specs use: ``type`` (a name or a list), ``enum``,
    ``const``, ``pattern``, ``format: uri``, string and array lengths, number bounds, and
    objects with ``properties`` and ``required`` (other properties drawn sometimes).
    """
    return schema_values_of(contract or Contract.bundled()).values(schema)


def field_values(
    field: str, contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[Any]:
    """Valid values of one request field: its schema and its ``x-sora-mock`` rule."""
    builder = schema_values_of(contract or Contract.bundled())
    models = [m for m in builder.models(model) if field in m.fields]
    if not models:
        raise ValueError(f"no model has a request field {field!r}")
    return st.one_of([builder.field(m, field) for m in models])


# -- valid create requests -------------------------------------------------------------------


def valid_create_bodies(
    contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the contract accepts: documented examples, then bodies drawn from the
    model's schema and rules, with optional fields sometimes and unknown fields sometimes
    (where the schema allows them)."""
    builder = schema_values_of(contract or Contract.bundled())
    bodies = {m.name: builder.bodies(m) for m in builder.models(model)}
    if len(bodies) == 1:
        return next(iter(bodies.values()))
    return st.sampled_from(list(bodies)).flatmap(bodies.__getitem__)


# -- invalid create requests -----------------------------------------------------------------


@dataclass(frozen=True)
class InvalidCreate:
    """A create request the contract rejects, and the error it must produce.

    ``kind`` names what is broken (one of :data:`INVALID_CREATE_KINDS`); the request
    breaks exactly one thing, so ``param`` (the field the error envelope must name, or
    the documented one when the whole body is at fault) is unambiguous. ``model`` is the
    model whose body was broken, when one was.
    """

    kind: str
    body: bytes
    content_type: str = JSON_TYPE
    status: int = 400
    code: str = "invalid_request"
    param: str | None = None
    model: str | None = None

    @property
    def text(self) -> str:
        """The body as text, for messages."""
        return self.body.decode("utf-8", "replace")


_BODY_KINDS = ("malformed_json", "empty_body", "not_an_object", "wrong_content_type")
#: Every kind of invalid create request :func:`invalid_create_requests` knows; which of
#: them a contract offers is :func:`invalid_create_kinds`.
INVALID_CREATE_KINDS: tuple[str, ...] = (*FIELD_KINDS, *_BODY_KINDS)


@dataclass(frozen=True)
class InvalidTarget:
    """What one kind of invalid create request breaks: ``field`` of ``model`` for a kind
    about fields, the body as a whole (both None) for the others."""

    kind: str
    model: str | None = None
    field: str | None = None


def invalid_create_targets(
    contract: Contract | None = None, model: str | None = None
) -> tuple[InvalidTarget, ...]:
    """Everything the contract (or one model) lets an invalid create request break: each
    model's fields in documented order (the model field first), every kind breaking one
    field together; then the kinds breaking the body as a whole."""
    return _targets(contract or Contract.bundled(), model)


@functools.lru_cache(maxsize=32)
def _targets(contract: Contract, model: str | None) -> tuple[InvalidTarget, ...]:
    builder = schema_values_of(contract)
    found: list[InvalidTarget] = []
    for m in builder.models(model):
        order = list(dict.fromkeys([builder.tasks.model_field, *builder.properties(m)]))
        targets = dict.fromkeys(
            InvalidTarget(kind, m.name, broken.field)
            for kind, breaks in FIELD_KINDS.items()
            for broken in breaks(builder, m)
        )
        found += sorted(targets, key=lambda t: order.index(t.field) if t.field in order else 0)
    return (*found, *(InvalidTarget(kind) for kind in _BODY_KINDS))


def invalid_create_kinds(
    contract: Contract | None = None, model: str | None = None
) -> tuple[str, ...]:
    """The kinds of invalid create request the contract (or one model) offers: a kind
    about fields needs a field it can break (e.g. ``span_violation`` a span rule)."""
    offered = {target.kind for target in invalid_create_targets(contract, model)}
    return tuple(kind for kind in INVALID_CREATE_KINDS if kind in offered)


def invalid_create_requests(
    kinds: Sequence[str] | None = None,
    contract: Contract | None = None,
    model: str | None = None,
    field: str | None = None,
) -> st.SearchStrategy[InvalidCreate]:
    """Create requests the contract rejects, each labelled with the error it must produce.

    Args:
        kinds: restrict to these kinds (default: every kind the contract offers).
        contract: the contract (default: the bundled one).
        model: break bodies of this model only (default: every model).
        field: break this request field only (default: any field, or the body as a whole).

    Raises:
        ValueError: a kind is unknown, or none of ``kinds`` is offered by the contract.
    """
    builder = schema_values_of(contract or Contract.bundled())
    targets = invalid_create_targets(builder.contract, model)
    offered = {target.kind for target in targets if field in (None, target.field)}
    chosen = invalid_create_kinds(builder.contract, model) if kinds is None else tuple(kinds)
    unknown = set(chosen) - set(INVALID_CREATE_KINDS)
    if unknown:
        raise ValueError(f"unknown invalid create kinds: {sorted(unknown)}")
    usable = [kind for kind in chosen if kind in offered]
    if not usable:
        about = "" if field is None else f" of the field {field!r}"
        raise ValueError(
            f"the contract offers none of the invalid create kinds {list(chosen)}{about}"
        )
    return st.one_of([_invalid(builder, kind, model, field) for kind in usable])


def _invalid(
    builder: SchemaValues, kind: str, model: str | None, field: str | None
) -> st.SearchStrategy[InvalidCreate]:
    error = builder.tasks.create.error(400)
    models = builder.models(model)

    def case(
        raw: bytes, param: str | None, of: str | None, content_type: str = JSON_TYPE
    ) -> InvalidCreate:
        return InvalidCreate(kind, raw, content_type, 400, error.code, param, of)

    if kind in FIELD_KINDS:
        cases = [
            st.builds(
                functools.partial(_broken_case, case, m.name, broken),
                builder.bases(m),
                broken.values if broken.values is not None else st.none(),
            )
            for m in models
            for broken in FIELD_KINDS[kind](builder, m)
            if field in (None, broken.field)
        ]
        return st.one_of(cases)
    valid = st.sampled_from(models).flatmap(lambda m: builder.bases(m).map(lambda b: (m.name, b)))
    if kind == "malformed_json":
        return valid.flatmap(
            lambda pair: st.sampled_from(_malformed(pair[1], builder.tasks.model_field)).map(
                lambda raw: case(raw, error.param, None)
            )
        )
    if kind == "empty_body":
        return st.just(case(b"", error.param, None))
    if kind == "not_an_object":
        values = st.one_of(
            st.lists(st.integers(0, 3), max_size=2), st.text(max_size=5), st.integers()
        )
        return values.map(lambda v: case(json.dumps(v).encode(), error.param, None))
    types = st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    )
    return st.builds(
        lambda pair, content_type: case(
            json.dumps(pair[1]).encode(), error.param, pair[0], content_type
        ),
        valid,
        types,
    )


def _broken_case(
    case: Callable[[bytes, str | None, str | None], InvalidCreate],
    model: str,
    broken: Break,
    body: dict[str, Any],
    value: Any,
) -> InvalidCreate:
    body = dict(body)
    if broken.values is None:
        body.pop(broken.field, None)
    else:
        body[broken.field] = value
    return case(json.dumps(body).encode(), broken.field, model)


def _malformed(body: Mapping[str, Any], model_field: str) -> list[bytes]:
    """Bytes that are not JSON, made from a valid body."""
    text = json.dumps(body)
    return [
        b"{",
        text[:-1].encode(),
        (text[:-1] + ",}").encode(),
        text.replace('"', "'").encode(),
        f"{model_field}={body.get(model_field)}".encode(),
        b"\xff\xfe",
    ]


def any_create_bodies(
    contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies and bodies broken in one or more fields (wrong types, values, missing)."""
    builder = schema_values_of(contract or Contract.bundled())

    def broken(m: TaskModel) -> st.SearchStrategy[dict[str, Any]]:
        fields = {
            name: st.one_of(builder.field(m, name), st.text(max_size=30), JSON_VALUES)
            for name in builder.properties(m)
        }
        fields[builder.tasks.model_field] = st.one_of(
            st.just(m.name), st.text(max_size=15), JSON_VALUES
        )
        return st.fixed_dictionaries({}, optional=fields)

    models = builder.models(model)
    return st.one_of(
        valid_create_bodies(builder.contract, model),
        st.sampled_from(models).flatmap(broken),
    )


def raw_bodies(
    contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[bytes]:
    """Request body bytes: JSON of any shape, valid bodies, and bytes that are not JSON."""
    return st.one_of(
        any_create_bodies(contract, model).map(lambda b: json.dumps(b).encode()),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
    )


def tokens() -> st.SearchStrategy[str | None]:
    """Bearer tokens: well-formed ones, the demo tokens, malformed ones and none."""
    return st.one_of(
        st.from_regex(r"sk-[A-Za-z0-9]{8,20}", fullmatch=True),
        st.sampled_from(
            [
                "sk-demo-no-credits",
                "sk-demo-overdrawn",
                "sk-demo-no-access",
                "sk-demo-rate-limited",
                "sk-demo-broken",
            ]
        ),
        # Header values cannot carry control characters, so neither do these.
        st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), max_size=10),
        st.none(),
    )


def create_requests(
    contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[tuple[str | None, str, bytes]]:
    """``(token, content_type, body)`` triples for the create call, valid and not."""
    return st.tuples(
        tokens(),
        st.sampled_from([JSON_TYPE, "application/json; charset=utf-8", "text/plain"]),
        raw_bodies(contract, model),
    )


# -- task ids --------------------------------------------------------------------------------


def _ids(pattern: str, created: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Ids of the contract's ``pattern``, with ``{created}`` drawn from ``created``."""
    parts: list[st.SearchStrategy[str]] = []
    at = 0
    for found in PATTERN_PART.finditer(pattern):
        parts.append(st.just(pattern[at : found.start()]))
        at = found.end()
        if found.group(3):
            parts.append(created.map(str))
        else:
            alphabet = LOWER + DIGITS if found.group(1) == "random" else LETTERS
            size = int(found.group(2))
            parts.append(st.text(alphabet, min_size=size, max_size=size))
    parts.append(st.just(pattern[at:]))
    return st.tuples(*parts).map("".join)


def valid_task_ids(contract: Contract | None = None) -> st.SearchStrategy[str]:
    """Ids of the contract's task id pattern (``x-sora-mock`` ``task-id``)."""
    return _ids((contract or Contract.bundled()).tasks.id_pattern, CREATED)


def unknown_task_ids(contract: Contract | None = None) -> st.SearchStrategy[str]:
    """Well-formed ids no server has issued (the read answers 404).

    Random parts make a clash with a real task practically impossible, and the
    ``created`` part is in the past or far future, never "now".
    """
    created = st.one_of(st.integers(1, 999_999_999), st.integers(3_000_000_000, 9_999_999_999))
    return _ids((contract or Contract.bundled()).tasks.id_pattern, created)


def malformed_task_ids(contract: Contract | None = None) -> st.SearchStrategy[str]:
    """Ids the id path parameter's schema refuses (the read answers 400).

    They stay path-safe: no ``/ ? # %``, no dot segments, printable ASCII, so an HTTP
    client sends them unchanged.

    Raises:
        ValueError: the parameter's schema accepts every such string.
    """
    contract = contract or Contract.bundled()
    tasks = contract.tasks
    validator = contract.parameter_validator(tasks.read, tasks.id_parameter)
    near = [n for n in _near_ids(tasks.id_prefix) if n and not validator.is_valid(n)]
    if "malformed" not in task_id_kinds(contract):
        raise ValueError(f"the {tasks.id_parameter!r} parameter accepts any id: none is malformed")
    text = st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"),
        min_size=1,
        max_size=30,
    )
    choices = st.one_of(st.sampled_from(near), text) if near else text
    return choices.filter(lambda s: s not in (".", "..") and not validator.is_valid(s))


def _near_ids(prefix: str) -> list[str]:
    """Ids close to well-formed ones, tried first as malformed ids."""
    return [prefix.upper(), prefix[1:], prefix[: len(prefix) // 2], "123", "x"]


def task_id_kinds(contract: Contract | None = None) -> tuple[str, ...]:
    """The kinds of :func:`task_id_cases` the contract offers: ``malformed`` unless the id
    parameter accepts any id, and ``unknown``."""
    contract = contract or Contract.bundled()
    tasks = contract.tasks
    validator = contract.parameter_validator(tasks.read, tasks.id_parameter)
    probes = [*_near_ids(tasks.id_prefix), "~", "!-!", "task"]
    refused = any(probe and not validator.is_valid(probe) for probe in probes)
    return ("malformed", "unknown") if refused else ("unknown",)


def task_ids(contract: Contract | None = None) -> st.SearchStrategy[str]:
    """Task ids of every kind: the contract's shape, unknown and malformed."""
    return st.one_of(
        valid_task_ids(contract), unknown_task_ids(contract), malformed_task_ids(contract)
    )


@dataclass(frozen=True)
class TaskIdCase:
    """A task id the contract answers with an error, and that error."""

    kind: str  # "malformed" or "unknown"
    task_id: str
    status: int
    code: str
    param: str | None = None


def task_id_cases(
    kinds: Sequence[str] = ("malformed", "unknown"), contract: Contract | None = None
) -> st.SearchStrategy[TaskIdCase]:
    """Malformed ids (the read's documented 400) and unknown ids (its documented 404).

    Args:
        kinds: ``malformed``, ``unknown`` or both (the default).
        contract: the contract (default: the bundled one).
    """
    contract = contract or Contract.bundled()
    if not kinds or set(kinds) - {"malformed", "unknown"}:
        raise ValueError(f"kinds must be among ['malformed', 'unknown'], got {kinds!r}")
    read = contract.tasks.read
    cases = []
    if "malformed" in kinds:
        bad = read.error(400)
        cases.append(
            malformed_task_ids(contract).map(
                lambda i: TaskIdCase("malformed", i, 400, bad.code, bad.param)
            )
        )
    if "unknown" in kinds:
        missing = read.error(404)
        cases.append(
            unknown_task_ids(contract).map(
                lambda i: TaskIdCase("unknown", i, 404, missing.code, missing.param)
            )
        )
    return st.one_of(cases)


# -- responses -------------------------------------------------------------------------------


def task_bodies(
    status: str | None = None, contract: Contract | None = None, model: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Task bodies the model's task schema accepts, in ``status`` (default: every state).

    The contract's task template (plus the completed or failed one) filled with drawn
    values: a model's literal values first, then others its task schema allows. Optional
    fields are sometimes absent and unknown extra fields sometimes present, as the schema
    allows.
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    builder = schema_values_of(contract or Contract.bundled())
    models = [m for m in builder.models(model) if m.task_schema is not None]
    if not models:
        raise ValueError("no model of the contract documents its task schema")
    statuses = st.just(status) if status is not None else st.sampled_from(STATUSES)
    return st.tuples(st.sampled_from(models), statuses).flatmap(
        lambda pair: _task_body(builder, *pair)
    )


def _task_body(
    builder: SchemaValues, model: TaskModel, status: str
) -> st.SearchStrategy[dict[str, Any]]:
    tasks = builder.tasks
    assert model.task_schema is not None
    schema = builder.contract.resolve(model.task_schema)
    validator = builder.validator(model.task_schema)
    ended = status in _ENDED
    progress = {"pending": st.just(0), "completed": st.just(100)}.get(status, st.integers(0, 99))
    values: dict[str, st.SearchStrategy[Any]] = {
        "model": st.just(model.name),
        "status": st.just(status),
        "progress": progress,
        "can_cancel": st.just(False) if ended else st.booleans(),
        "failure_code": _failure_codes(builder, model),
        "failure_message": st.text(LETTERS + " .", min_size=1, max_size=40),
    }
    templates = [tasks.task]
    if status == "completed" and model.completed is not None:
        templates.append(model.completed)
    if status == "failed" and tasks.failed is not None:
        templates.append(tasks.failed)
    for name, literal in model.values.items():
        at = _schema_at(builder, schema, templates, name)
        drawn = builder.values(at) if at is not None else st.nothing()
        values[name] = st.one_of(st.just(literal), drawn)
    for name, pattern in model.generated.items():
        values[name] = _ids(pattern, CREATED)
    for name, file in model.files.items():
        values[name] = st.builds(
            lambda host, folder, n=file.name: f"https://{host}/{folder}/{n}", HOST, SEGMENT
        )

    def render(filled: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = tasks.task.render(filled)
        for template in templates[1:]:
            body.update(template.render(filled))
        return body

    known = set(schema.get("properties") or ())
    extras: st.SearchStrategy[dict[str, Any]] = st.just({})
    if schema.get("additionalProperties") is not False:
        extras = st.dictionaries(
            st.text(LOWER + "_", min_size=1, max_size=12).filter(lambda k: k not in known),
            JSON_VALUES,
            max_size=2,
        )

    def filled(created: int) -> st.SearchStrategy[dict[str, Any]]:
        # The id tells the same creation time as ``created``.
        same = st.just(created)
        fixed = {**values, "created": same, "id": _ids(tasks.id_pattern, same)}
        return st.fixed_dictionaries(fixed)

    full = st.builds(
        lambda drawn, extra: {**extra, **render(drawn)}, CREATED.flatmap(filled), extras
    )
    return full.flatmap(lambda body: _some_dropped(body, validator)).filter(validator.is_valid)


def _failure_codes(builder: SchemaValues, model: TaskModel) -> st.SearchStrategy[str]:
    if model.failure_codes:
        return st.sampled_from(model.failure_codes)
    failure = model.lifecycle.get("failure") or {}
    return st.just(str(failure.get("code", "unknown_error")))


def _schema_at(
    builder: SchemaValues, schema: Mapping[str, Any], templates: list[Any], name: str
) -> Mapping[str, Any] | None:
    """The task schema of the first place a template puts the value ``name``."""
    for template in templates:
        for path in template.paths(name):
            node: Any = schema
            for part in path:
                node = builder.contract.resolve(node)
                if isinstance(part, int):
                    node = node.get("items") if isinstance(node, Mapping) else None
                else:
                    node = (
                        (node.get("properties") or {}).get(part)
                        if isinstance(node, Mapping)
                        else None
                    )
                if node is None:
                    break
            if node is not None:
                resolved: Mapping[str, Any] = builder.contract.resolve(node)
                return resolved
    return None


def _some_dropped(
    body: dict[str, Any], validator: jsonschema_rs.Validator
) -> st.SearchStrategy[dict[str, Any]]:
    """``body`` with some of the fields it may go without removed."""
    optional = [path for path in _paths(body) if validator.is_valid(_without(body, path))]
    if not optional:
        return st.just(body)
    chosen = st.lists(st.sampled_from(optional), max_size=len(optional), unique=True)
    return chosen.map(lambda paths: _without_all(body, paths))


def _paths(node: Mapping[str, Any], at: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in node.items():
        yield (*at, key)
        if isinstance(value, Mapping):
            yield from _paths(value, (*at, key))


def _without(body: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy = dict(body)
    if len(path) == 1:
        copy.pop(path[0], None)
    elif isinstance(copy.get(path[0]), Mapping):
        copy[path[0]] = _without(copy[path[0]], path[1:])
    return copy


def _without_all(body: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    for path in paths:
        body = _without(body, path)
    return body


def error_envelopes(
    operation_id: str | None = None, contract: Contract | None = None
) -> st.SearchStrategy[tuple[int, dict[str, Any]]]:
    """``(status, body)`` pairs of documented error answers, with varied messages.

    Args:
        operation_id: one operation's errors (default: every operation's).
        contract: the contract (default: the bundled one).
    """
    contract = contract or Contract.bundled()
    documented = [
        error
        for op in contract.operations
        if operation_id in (None, op.operation_id)
        for error in op.errors.values()
    ]
    if not documented:
        raise ValueError(f"no documented errors for operation {operation_id!r}")
    fields = sorted({field for model in contract.tasks.models.values() for field in model.fields})

    def envelope(error: Any, message: str, field: str | None) -> tuple[int, dict[str, Any]]:
        param = error.param or (field if error.status == 400 else None)
        return error.status, error.envelope(message, param)

    return st.builds(
        envelope,
        st.sampled_from(documented),
        st.one_of(st.just(""), st.text(min_size=1, max_size=40)),
        st.one_of(st.none(), st.sampled_from(fields)) if fields else st.none(),
    )
