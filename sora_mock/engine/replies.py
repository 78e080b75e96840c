"""Error responses shared by the engine and the mock's own routes."""

from __future__ import annotations

from typing import Any

from sora_mock.contract import DocumentedError, Header, Request, Response


class Answer(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the engine to stop at the first rule that decides the response."""

    def __init__(self, response: Response, **notes: Any) -> None:
        self.response = response
        self.notes = notes


def documented(
    error: DocumentedError,
    message: str | None = None,
    param: str | None = None,
    headers: tuple[Header, ...] = (),
) -> Response:
    """The documented error response, with an optional specific message and param."""
    return Response.json(error.status, error.envelope(message, param), headers)


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
