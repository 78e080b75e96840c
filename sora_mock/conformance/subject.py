"""What the client under test is pointed at: the model it uses and a create body for it.

The model is one of the contract's (default: its first); the body is the model's documented
request example unless one is given. ``url`` serves clients written for a model whose
create call takes a URL: the body's first string field (in the order the model documents
its fields) whose schema has ``format: uri``.

Example::

    subject = Subject.of(Contract.bundled())
    subject.model.name, subject.body, subject.url
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sora_mock.contract import Contract, TaskModel
from sora_mock.errors import UsageError


@dataclass(frozen=True)
class Subject:
    """The model under test, the create body handed to the client, and its URL field."""

    model: TaskModel
    body: Mapping[str, Any]
    url: str | None

    @classmethod
    def of(
        cls, contract: Contract, model: str | None = None, body: Mapping[str, Any] | None = None
    ) -> Subject:
        """The subject for ``model`` (default: the contract's first) and ``body`` (default:
        the model's documented example); an unknown model or a missing example raises
        :class:`~sora_mock.errors.UsageError`."""
        chosen = model_of(contract, model)
        if body is None:
            if chosen.example is None:
                raise UsageError(
                    f"model {chosen.name!r} documents no request example: give the create "
                    "body to hand the client (body=...)"
                )
            body = chosen.example
        return cls(chosen, dict(body), _url_field(contract, chosen, body))


def model_of(contract: Contract, model: str | None = None) -> TaskModel:
    """The contract's model called ``model`` (default: its first)."""
    models = contract.tasks.models
    if model is None:
        return next(iter(models.values()))
    found = models.get(model)
    if found is None:
        known = ", ".join(repr(name) for name in models)
        raise UsageError(f"the contract has no model {model!r} (its models: {known})")
    return found


def _url_field(contract: Contract, model: TaskModel, body: Mapping[str, Any]) -> str | None:
    properties = contract.resolve(model.request_schema).get("properties") or {}
    for field in sorted(body, key=model.field_order):
        schema = contract.resolve(properties.get(field) or {})
        value = body[field]
        if isinstance(value, str) and isinstance(schema, Mapping) and schema.get("format") == "uri":
            return value
    return None
