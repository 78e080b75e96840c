"""Is a create body acceptable? Its model, its model's schema, and the rules beyond it.

One check serves the mock (which answers 400 with the problem), the in-process
assertions and the conformance rules (which report it). The first problem is reported,
in the order the model documents its fields.

Example::

    check = RequestCheck(Contract.bundled())
    problem = check.problem({"model": "sora-character"})
    problem.param, problem.message  # "video_url", "Invalid request parameters: ..."
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sora_mock.contract.request_rules import callback_url_problem, span_problem

if TYPE_CHECKING:
    import jsonschema_rs

    from sora_mock.contract.openapi import Contract
    from sora_mock.contract.task_api import TaskAPI, TaskModel

INVALID = "Invalid request parameters"
# Errors whose schema message says best what is wrong (a missing field, a wrong type, not
# a URI); any other error of a field with an x-sora-mock message (a pattern, an enum, a
# bound) answers that message.
_OWN_WORDS = frozenset({"Required", "Type", "Format"})


@dataclass(frozen=True)
class BodyProblem:
    """Why a create body is refused: the field (``param``), the message, and the rule."""

    param: str | None
    message: str
    violation: str


@dataclass(frozen=True)
class CheckedBody:
    """A create body that passed: the model it selected."""

    model: TaskModel


class RequestCheck:
    """Checks create bodies against a contract's models (validators compiled once)."""

    def __init__(self, contract: Contract) -> None:
        self.tasks: TaskAPI = contract.tasks
        self._validators: dict[str, jsonschema_rs.Validator] = {
            name: contract.schema_validator(model.request_schema)
            for name, model in self.tasks.models.items()
        }

    def model_of(self, body: Mapping[str, Any]) -> TaskModel | None:
        """The model ``body`` selects, or None when it names none the contract knows."""
        name = body.get(self.tasks.model_field)
        return self.tasks.models.get(name) if isinstance(name, str) else None

    def check(
        self,
        body: Mapping[str, Any],
        *,
        allow_loopback: bool = False,
        allow_ports: Collection[int] = (),
    ) -> CheckedBody | BodyProblem:
        """The body's model when it is acceptable, else its first problem. A callback URL
        may name a loopback host with ``allow_loopback``, and a port besides 443 when
        ``allow_ports`` holds it."""
        model = self.model_of(body)
        if model is None:
            return self._unknown_model(body)
        validator = self._validators[model.name]
        if not validator.is_valid(body):
            return self._schema_problem(model, validator, body)
        for rule in model.checks:
            value = body.get(rule.field)
            if not isinstance(value, str):
                continue
            if rule.span_max is not None:
                reason = span_problem(value, rule.span_max)
                if reason is not None:
                    message = f"{rule.message or INVALID}: {reason}"
                    return BodyProblem(rule.field, message, f"{rule.field}: {reason}")
            if rule.callback:
                reason = callback_url_problem(
                    value, rule.field, allow_loopback=allow_loopback, allow_ports=allow_ports
                )
                if reason is not None:
                    return BodyProblem(rule.field, reason, reason)
        return CheckedBody(model)

    def problem(
        self,
        body: Mapping[str, Any],
        *,
        allow_loopback: bool = False,
        allow_ports: Collection[int] = (),
    ) -> BodyProblem | None:
        """The body's first problem, or None."""
        found = self.check(body, allow_loopback=allow_loopback, allow_ports=allow_ports)
        return found if isinstance(found, BodyProblem) else None

    def _unknown_model(self, body: Mapping[str, Any]) -> BodyProblem:
        field = self.tasks.model_field
        known = ", ".join(repr(name) for name in self.tasks.models)
        if field not in body:
            why = f"expected a required field, got nothing (one of {known})"
        else:
            why = f"{body[field]!r} is not one of the models mocked ({known})"
        return BodyProblem(field, f"{INVALID}: {field}: {why}", f"{field}: {why}")

    def _schema_problem(
        self, model: TaskModel, validator: jsonschema_rs.Validator, body: Mapping[str, Any]
    ) -> BodyProblem:
        def order(error: Any) -> tuple[int, str, bool]:
            # By documented field; a field's pattern error after its type and format ones.
            param = error_param(error) or ""
            return model.field_order(param), param, type(error.kind).__name__ == "Pattern"

        first = min(validator.iter_errors(body), key=order)
        param = error_param(first)
        message = f"{INVALID}: {param}: {first.message}" if param else f"{INVALID}: {first.message}"
        rule = model.rules.get(param) if param else None
        if rule is not None and rule.message and type(first.kind).__name__ not in _OWN_WORDS:
            value = body[rule.field]
            reason = span_problem(value, rule.span_max) if rule.span_max else None
            message = f"{rule.message}: {reason}" if reason else rule.message
        return BodyProblem(param, message, f"{param}: {first.message}")


def error_param(error: Any) -> str | None:
    """The top-level body field a jsonschema-rs error is about, if any."""
    path = list(error.instance_path)
    if path:
        return str(path[0])
    kind = error.kind
    if type(kind).__name__ == "Required":
        return str(kind.property)
    return None
