"""What the engine decides for a request, and the error responses it and the mock's own
routes share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sora_mock.contract import DocumentedError, Header, Request, Response


@dataclass(slots=True)
class Outcome:
    """The engine's decision on one request, success and refusal alike: the response and
    what the journal records about it (the operation, the task made or read, the scenario
    applied, the contract rules the request broke and any further notes).

    A value, not frozen for the reason :class:`~sora_mock.engine.journal.JournalEntry` is not.
    """

    response: Response
    operation: str | None = None
    role: str | None = None
    task_status: str | None = None
    task_progress: int | None = None
    task_id: str | None = None
    scenario: str | None = None
    violations: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)


class Answer(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the engine to stop at the first rule that decides the response: a
    refusal, with the rules the request broke and notes for the journal. The step that
    catches it returns an :class:`Outcome`."""

    def __init__(
        self,
        response: Response,
        *,
        violations: Iterable[str] = (),
        notes: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(response.status)
        self.response = response
        self.violations = tuple(violations)
        self.notes = dict(notes or {})


def documented(
    error: DocumentedError,
    message: str | None = None,
    param: str | None = None,
    headers: tuple[Header, ...] = (),
) -> Response:
    """The documented error response, with an optional specific message and param."""
    return Response.json(error.status, error.envelope(message, param), headers)


def not_mocked(request: Request) -> Response:
    """501 for an operation the contract documents but the mock has no behaviour for."""
    message = f"{request.method} {request.path} is documented but not mocked"
    body = {"error": {"code": "not_mocked", "message": message, "type": "invalid_request_error"}}
    return Response.json(501, body)


def mock_error(status: int, code: str, message: str, headers: tuple[Header, ...] = ()) -> Response:
    """An error of the mock's own routes, in the same envelope as the API's."""
    body = {"error": {"code": code, "message": message, "type": "invalid_request_error"}}
    return Response.json(status, body, headers)


def not_found(request: Request) -> Response:
    """404 for a path the mock does not serve."""
    return mock_error(404, "not_found", f"No route for {request.method} {request.path}")


def method_not_allowed(request: Request, allow: str) -> Response:
    """405 with ``Allow`` for a known path asked with another method."""
    return mock_error(
        405,
        "method_not_allowed",
        f"Method {request.method} is not allowed here; use {allow}",
        headers=(("allow", allow),),
    )
