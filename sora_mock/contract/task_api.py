"""The task API a contract describes: its two operations, its models and their behaviour.

Read from the ``x-sora-mock`` extension (see :mod:`sora_mock.contract.extension`) of a
(merged) OpenAPI document. Everything the mock, the checker and the conformance harness
know about the vendor's API beyond HTTP comes from here: which operation creates a task
and which reads it, how ids look, the task body, and per model the request schema, the
rules beyond it, the lifecycle, the named values and the result.

Example::

    tasks = Contract.bundled().tasks
    tasks.create.operation_id, tasks.read.operation_id
    model = tasks.models["sora-character"]
    model.lifecycle["processing_seconds"], sorted(model.values)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sora_mock.contract.extension import KEY, Problem
from sora_mock.contract.templates import Template

if TYPE_CHECKING:
    from sora_mock.contract.openapi import Contract, Operation

#: Values every task has, whatever its model.
BUILTIN_VALUES = frozenset(
    {"id", "created", "model", "status", "progress", "can_cancel"}
    | {"failure_code", "failure_message"}
)
#: Placeholders of a drawn pattern: ``{random:N}`` (a-z0-9), ``{letters:N}``, ``{created}``.
PATTERN_PART = re.compile(r"\{(random|letters):([1-9][0-9]?)\}|\{(created)\}")
DEFAULT_FILE_TTL = 86400.0
#: The ``x-sora-mock`` roles of the operation that creates a task and the one that reads it.
CREATE_ROLE = "create-task"
READ_ROLE = "read-task"


class TaskApiError(ValueError):
    """The extension blocks of a document do not describe a usable task API."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message)


@dataclass(frozen=True)
class ServedFile:
    """A file the mock serves for a task: its media type, name and lifetime after the end."""

    media_type: str
    name: str
    ttl: float


@dataclass(frozen=True)
class FieldRule:
    """What the extension adds to one request property."""

    field: str
    span_max: float | None = None
    callback: bool = False
    message: str | None = None


@dataclass(frozen=True)
class TaskModel:
    """One model: its request schema and rules, lifecycle, values and result."""

    name: str
    request_schema: Mapping[str, Any]
    task_schema: Mapping[str, Any] | None
    fields: tuple[str, ...]
    rules: Mapping[str, FieldRule]
    lifecycle: Mapping[str, Any]
    failure_codes: tuple[str, ...]
    values: Mapping[str, Any]
    generated: Mapping[str, str]
    files: Mapping[str, ServedFile]
    cost: float | str
    completed: Template | None
    example: Mapping[str, Any] | None
    #: The request field holding the callback URL, if the model has one.
    callback_field: str | None = None
    #: Where the model's ``x-sora-mock`` block is, as a JSON path into the document.
    at: tuple[str | int, ...] = ()
    #: The rules with a check beyond JSON Schema (span, callback), in documented order.
    checks: tuple[FieldRule, ...] = ()

    def field_order(self, field: str) -> int:
        """Where ``field`` is documented among the request properties (unknown ones last)."""
        return self.fields.index(field) if field in self.fields else len(self.fields)

    def cost_of(self, values: Mapping[str, Any]) -> float:
        """Credits one create charges, given the values in force."""
        if isinstance(self.cost, str):
            return float(values[self.cost])
        return float(self.cost)


@dataclass(frozen=True)
class TaskAPI:
    """The create and read operations and the models selected by the body's model field."""

    create: Operation
    read: Operation
    model_field: str
    id_parameter: str
    id_pattern: str
    task: Template
    failed: Template | None
    models: Mapping[str, TaskModel]

    @property
    def id_prefix(self) -> str:
        """The literal text every task id starts with."""
        found = PATTERN_PART.search(self.id_pattern)
        return self.id_pattern if found is None else self.id_pattern[: found.start()]

    def field_path(self, name: str) -> tuple[str | int, ...] | None:
        """Where the task body holds the built-in value ``name`` (e.g. ``status``)."""
        paths = self.task.paths(name)
        return paths[0] if paths else None

    def result_fields(self) -> frozenset[str]:
        """Top-level body fields some model adds to a completed task."""
        return frozenset(
            key
            for model in self.models.values()
            if model.completed is not None and isinstance(model.completed.source, Mapping)
            for key in model.completed.source
        )

    def failure_fields(self) -> frozenset[str]:
        """Top-level body fields a failed task adds."""
        if self.failed is None or not isinstance(self.failed.source, Mapping):
            return frozenset()
        return frozenset(self.failed.source)

    @classmethod
    def from_contract(cls, contract: Contract) -> TaskAPI:
        """Read the task API of ``contract``; a missing or inconsistent extension raises
        :class:`TaskApiError` with the path of the problem."""
        create_at, create_ext = _operation_with_role(contract, CREATE_ROLE)
        read_at, read_ext = _operation_with_role(contract, READ_ROLE)
        create = contract.operation_at(*create_at)
        read = contract.operation_at(*read_at)
        model_field = create_ext["model-field"]
        id_parameter = read_ext["id-parameter"]
        if f"{{{id_parameter}}}" not in read.path:
            raise TaskApiError(
                Problem(
                    ("paths", read.path, read.method.lower(), KEY, "id-parameter"),
                    f"{read.path} has no path parameter {id_parameter!r}",
                )
            )
        task = _template(read_ext["task"], ("paths", read.path, read.method.lower(), KEY, "task"))
        failed = None
        if "failed" in read_ext:
            failed = _template(
                read_ext["failed"], ("paths", read.path, read.method.lower(), KEY, "failed")
            )
        id_at = ("paths", create.path, create.method.lower(), KEY, "task-id")
        _check_pattern(create_ext["task-id"], id_at)
        sample = sample_id(create_ext["task-id"])
        if not contract.parameter_validator(read, id_parameter).is_valid(sample):
            raise TaskApiError(
                Problem(
                    id_at,
                    f"an id it makes ({sample!r}) breaks the schema of the path parameter "
                    f"{id_parameter!r} of {read.method} {read.path}",
                )
            )
        models = dict(_models(contract, create, model_field))
        api = cls(
            create=create,
            read=read,
            model_field=model_field,
            id_parameter=id_parameter,
            id_pattern=create_ext["task-id"],
            task=task,
            failed=failed,
            models=models,
        )
        for model in models.values():
            _check_names(api, model)
        return api


def sample_id(pattern: str) -> str:
    """An id ``pattern`` could make (every drawn letter ``a``, a fixed creation time)."""

    def part(found: re.Match[str]) -> str:
        if found.group(3):
            return "1767917446"
        return ("a" if found.group(1) == "random" else "A") * int(found.group(2))

    return PATTERN_PART.sub(part, pattern)


def _operation_with_role(contract: Contract, role: str) -> tuple[tuple[str, str], Any]:
    found = [
        ((path, method), raw[KEY])
        for path, item in contract.document.get("paths", {}).items()
        for method, raw in item.items()
        if isinstance(raw, Mapping)
        and isinstance(raw.get(KEY), Mapping)
        and raw[KEY].get("role") == role
    ]
    if len(found) != 1:
        count = "no operation has" if not found else f"{len(found)} operations have"
        raise TaskApiError(
            Problem(("paths",), f"{count} x-sora-mock role {role!r}; exactly one must")
        )
    return found[0]


def _models(
    contract: Contract, create: Operation, model_field: str
) -> Iterator[tuple[str, TaskModel]]:
    body = contract.resolve(contract.raw_operation(create).get("requestBody") or {})
    request = (body.get("content") or {}).get("application/json", {}).get("schema")
    if request is None:
        raise TaskApiError(Problem(("paths", create.path), "the create operation has no body"))
    tasks: dict[str | None, Any] = {}
    answer = contract.response_schema(create.operation_id, 200)
    for names, schema in _variants(contract, answer, model_field):
        for name in names or (None,):
            tasks[name] = schema
    seen: set[str] = set()
    for names, schema in _variants(contract, request, model_field):
        resolved = contract.resolve(schema)
        where = _ref_path(schema) or ("paths", create.path, "post", "requestBody")
        if not names:
            raise TaskApiError(
                Problem(where, f"the request schema names no model: give {model_field!r} an enum")
            )
        extension = resolved.get(KEY)
        if not isinstance(extension, Mapping):
            raise TaskApiError(
                Problem(where, f"the request schema of {', '.join(names)} has no {KEY} block")
            )
        for name in names:
            if name in seen:
                raise TaskApiError(Problem(where, f"model {name!r} is defined twice"))
            seen.add(name)
            task_schema = tasks.get(name, tasks.get(None))
            yield name, _model(contract, name, schema, resolved, extension, task_schema, where)


def _variants(
    contract: Contract, schema: Any, model_field: str
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The per-model parts of a schema: an ``allOf`` of ``if model in [...] then X`` (as a
    merge writes it) gives each ``X`` with its models; any other schema is one part, for the
    models its own model field names (none when it names none)."""
    if schema is None:
        return
    resolved = contract.resolve(schema)
    branches = resolved.get("allOf") if isinstance(resolved, Mapping) else None
    if branches and all(_selects_model(branch, model_field) for branch in branches):
        for branch in branches:
            yield _model_names(branch["if"], model_field), branch["then"]
        return
    yield _model_names(resolved, model_field), schema


def _selects_model(branch: Any, model_field: str) -> bool:
    if not isinstance(branch, Mapping) or "then" not in branch:
        return False
    condition = branch.get("if")
    return isinstance(condition, Mapping) and model_field in (condition.get("properties") or {})


def _model_names(schema: Mapping[str, Any], model_field: str) -> tuple[str, ...]:
    field = (schema.get("properties") or {}).get(model_field)
    if not isinstance(field, Mapping):
        return ()
    if "const" in field:
        return (str(field["const"]),)
    return tuple(str(v) for v in field.get("enum", ()))


def _model(
    contract: Contract,
    name: str,
    schema: Mapping[str, Any],
    resolved: Mapping[str, Any],
    extension: Mapping[str, Any],
    task_schema: Mapping[str, Any] | None,
    where: tuple[str | int, ...],
) -> TaskModel:
    properties = {
        key: contract.resolve(value) for key, value in (resolved.get("properties") or {}).items()
    }
    rules = {}
    for field, prop in properties.items():
        rule = prop.get(KEY) if isinstance(prop, Mapping) else None
        if isinstance(rule, Mapping):
            span = rule.get("span")
            rules[field] = FieldRule(
                field=field,
                span_max=float(span["max"]) if span else None,
                callback=bool(rule.get("callback")),
                message=rule.get("message"),
            )
    values: dict[str, Any] = {}
    generated: dict[str, str] = {}
    files: dict[str, ServedFile] = {}
    for key, value in extension["values"].items():
        at = (*where, KEY, "values", key)
        if key in BUILTIN_VALUES:
            raise TaskApiError(Problem(at, f"{key!r} is a built-in value and cannot be set"))
        if isinstance(value, Mapping) and "generate" in value:
            generated[key] = _check_pattern(value["generate"], (*at, "generate"))
        elif isinstance(value, Mapping) and "file" in value:
            spec = value["file"]
            files[key] = ServedFile(
                spec["type"], spec["name"], float(spec.get("ttl", DEFAULT_FILE_TTL))
            )
        elif isinstance(value, Mapping):
            values[key] = value["value"]
        else:
            values[key] = value
    completed = None
    if "completed" in extension:
        completed = _template(extension["completed"], (*where, KEY, "completed"))
    cost = extension.get("cost", 0)
    if isinstance(cost, str):
        cost = cost[1:-1]
        if cost not in values:
            raise TaskApiError(Problem((*where, KEY, "cost"), f"no literal value {cost!r}"))
    return TaskModel(
        name=name,
        request_schema=schema,
        task_schema=task_schema,
        fields=tuple(properties),
        rules=rules,
        lifecycle=extension["lifecycle"],
        failure_codes=_failure_codes(contract, extension.get("failure-codes"), where),
        values=values,
        generated=generated,
        files=files,
        cost=cost,
        completed=completed,
        example=_example(contract, name),
        callback_field=next((r.field for r in rules.values() if r.callback), None),
        at=(*where, KEY),
        checks=tuple(r for r in rules.values() if r.callback or r.span_max is not None),
    )


def _failure_codes(
    contract: Contract, declared: Any, where: tuple[str | int, ...]
) -> tuple[str, ...]:
    if declared is None:
        return ()
    if isinstance(declared, list):
        return tuple(declared)
    try:
        return tuple(contract.pointer(declared)["enum"])
    except (KeyError, TypeError, IndexError):
        raise TaskApiError(
            Problem((*where, KEY, "failure-codes"), f"{declared} names no schema with an enum")
        ) from None


def _example(contract: Contract, model: str) -> Mapping[str, Any] | None:
    """A documented request body example of ``model``, if any."""
    for example in contract.request_examples():
        if isinstance(example, Mapping) and model in example.values():
            return example
    return None


def _check_names(api: TaskAPI, model: TaskModel) -> None:
    """Every name a template uses is a value the model has when the template is shown: a
    file link exists once the task has completed, so only ``completed`` may show one."""
    known = BUILTIN_VALUES | set(model.values) | set(model.generated)
    read_at = ("paths", api.read.path, api.read.method.lower(), KEY)
    templates = [
        ("task", api.task, known - {"failure_code", "failure_message"}, (*read_at, "task")),
        ("failed", api.failed, known, (*read_at, "failed")),
        ("completed", model.completed, known | set(model.files), (*model.at, "completed")),
    ]
    for label, template, allowed, at in templates:
        missing = sorted(template.names - allowed) if template is not None else []
        if missing:
            why = (
                "is a file, shown only when completed"
                if missing[0] in model.files
                else ("is not one of its values")
            )
            raise TaskApiError(
                Problem(
                    at,
                    f"the {label} template uses {missing[0]!r}, which for model "
                    f"{model.name!r} {why}",
                )
            )


def _template(source: Any, at: tuple[str | int, ...]) -> Template:
    try:
        return Template.compile(source)
    except ValueError as exc:
        raise TaskApiError(Problem(at, str(exc))) from None


def _check_pattern(pattern: str, at: tuple[str | int, ...]) -> str:
    rest = PATTERN_PART.sub("", pattern)
    if "{" in rest or "}" in rest:
        raise TaskApiError(
            Problem(at, f"{pattern!r}: only {{created}}, {{random:N}} and {{letters:N}} are known")
        )
    return pattern


def _ref_path(schema: Any) -> tuple[str | int, ...] | None:
    if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        ref: str = schema["$ref"]
        if ref.startswith("#/"):
            return tuple(ref[2:].split("/"))
    return None
