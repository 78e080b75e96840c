"""The ``x-sora-mock`` extension: where it may appear, and its JSON Schema check.

The extension says what plain OpenAPI cannot: which operation creates a task and which
reads one, the task body, each model's lifecycle, values and result, and request rules
beyond JSON Schema. Its schema is ``sora_mock/schemas/x-sora-mock.schema.json``; each place
it may appear has a definition there:

- on an operation: ``createOperation`` or ``readOperation`` (chosen by its ``role``);
- on a property schema (a value under ``properties``): ``property``;
- on any other schema: ``model`` (a model's request body schema).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema

from sora_mock.contract.resources import json_schema

#: The extension's key in an OpenAPI document.
KEY = "x-sora-mock"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ROLES = {"create-task": "createOperation", "read-task": "readOperation"}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """Something wrong in a document, at a JSON path into it."""

    path: Path
    message: str


def extension_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Every place an ``x-sora-mock`` block breaks the extension's JSON Schema."""
    for at, block, place in _blocks(document, ()):
        if place == "operation":
            role = block.get("role") if isinstance(block, Mapping) else None
            chosen = _ROLES.get(role) if isinstance(role, str) else None
            if chosen is None:
                roles = ", ".join(sorted(_ROLES))
                yield Problem((*at, KEY, "role"), f"role must be one of {roles}, got {role!r}")
                continue
            place = chosen
        error = jsonschema.exceptions.best_match(_validator(place).iter_errors(block))
        if error is not None:
            yield Problem((*at, KEY, *error.absolute_path), error.message)


def _blocks(node: Any, at: Path) -> Iterator[tuple[Path, Any, str]]:
    """``(path of the owner, block, place)`` of every extension block under ``node``."""
    if isinstance(node, Mapping):
        if KEY in node:
            yield at, node[KEY], _place(at)
        for key, value in node.items():
            if key != KEY:
                yield from _blocks(value, (*at, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _blocks(item, (*at, index))


def _place(at: Path) -> str:
    if len(at) == 3 and at[0] == "paths" and at[2] in HTTP_METHODS:
        return "operation"
    if len(at) >= 2 and at[-2] == "properties":
        return "property"
    return "model"


@cache
def _validator(place: str) -> jsonschema.protocols.Validator:
    schema = json_schema("x-sora-mock")
    cls = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = cls(
        {"$ref": f"#/$defs/{place}", "$defs": schema["$defs"]}
    )
    return validator
