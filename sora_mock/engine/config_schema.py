"""The configuration's JSON Schema, which both configuration and scenario files must pass."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jsonschema

from sora_mock.contract import YamlDocument, json_schema
from sora_mock.errors import ConfigError


def check_document(document: YamlDocument) -> dict[str, Any]:
    """The settings of ``document`` once they pass the schema; else ConfigError at the line."""
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise document.error("the file must hold a mapping of settings", [], ConfigError)
    error = _first_schema_error(data)
    if error is not None:
        raise document.error(error.message, list(error.absolute_path), ConfigError)
    return data


def check_mapping(data: Mapping[str, Any], source: str) -> None:
    """Raise ConfigError (naming ``source`` and the field) unless ``data`` passes the schema."""
    error = _first_schema_error(data)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise ConfigError(f"{where}: {error.message}" if where else error.message, source=source)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema("config"))


def _first_schema_error(data: Any) -> jsonschema.ValidationError | None:
    validator = _validator()
    best: jsonschema.ValidationError | None = jsonschema.exceptions.best_match(
        validator.iter_errors(data)
    )
    return best
