"""The configuration's JSON Schema, which both configuration and scenario files must pass."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from sora_mock.contract import YamlDocument, json_schema
from sora_mock.errors import ConfigError


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """The first thing wrong with a settings mapping: what, and the path of the value."""

    message: str
    path: tuple[str | int, ...]


def check_document(document: YamlDocument) -> dict[str, Any]:
    """The settings of ``document`` once they pass the schema; else ConfigError at the line.

    An empty document is refused: a file given as settings that holds none is a mistake."""
    data = document.data
    if data is None:
        raise document.error(
            "the file is empty; it must hold a mapping of settings, such as 'scenarios: [...]'",
            [],
            ConfigError,
        )
    if not isinstance(data, dict):
        raise document.error("the file must hold a mapping of settings", [], ConfigError)
    problem = _first_problem(data)
    if problem is not None:
        raise document.error(problem.message, list(problem.path), ConfigError)
    return data


def check_mapping(data: Mapping[str, Any], source: str) -> None:
    """Raise ConfigError (naming ``source`` and the field) unless ``data`` passes the schema."""
    problem = _first_problem(data)
    if problem is not None:
        where = "/".join(str(p) for p in problem.path)
        message = f"{where}: {problem.message}" if where else problem.message
        raise ConfigError(message, source=source)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema("config"))


def _first_problem(data: Any) -> SchemaProblem | None:
    """The schema's most relevant error; the path of an unknown key ends with it, and the
    message offers the closest known key."""
    error: jsonschema.ValidationError | None = jsonschema.exceptions.best_match(
        _validator().iter_errors(data)
    )
    if error is None:
        return None
    path = tuple(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    unknown = _unknown_keys(error, schema)
    if not unknown:
        return SchemaProblem(error.message, path)
    known = sorted(schema.get("properties", {}))
    key = unknown[0]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
    return SchemaProblem(f"unknown key ({hint})", (*path, key))


def _unknown_keys(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> list[str]:
    """The keys an ``additionalProperties: false`` error (of ``schema``) is about, in file
    order."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, Mapping):
        return []
    if schema.get("patternProperties"):
        return []
    known = schema.get("properties", {})
    return [str(key) for key in error.instance if key not in known]
