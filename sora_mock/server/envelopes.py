"""The error envelopes the server answers with on its own, before or after the engine: a
malformed or oversized request, a failure of its own, a state file that could not save."""

from __future__ import annotations

from typing import Any

from sora_mock.contract import Response

#: The most bytes a request line plus headers may take; larger heads answer 431.
MAX_HEAD_BYTES = 16 * 1024

_PROTOCOL_ERRORS = {
    400: ("invalid_request", "Malformed HTTP request", "invalid_request_error"),
    431: (
        "request_headers_too_large",
        f"Request line and headers too large: the limit is {MAX_HEAD_BYTES} bytes",
        "invalid_request_error",
    ),
    500: ("internal_error", "Internal server error", "api_error"),
    503: (
        "service_unavailable",
        "Too many open connections: try again shortly",
        "service_unavailable_error",
    ),
}

#: The 503's message when the state file failed to commit an answer's writes.
NOT_SAVED = "The mock's state file could not save this request: try again shortly"


def protocol_error(status: int, message: str | None = None) -> dict[str, Any]:
    """The error envelope the server itself answers with (400, 431, 500 or 503), with its
    usual message unless ``message`` is given."""
    code, usual, kind = _PROTOCOL_ERRORS[status]
    return {"error": {"code": code, "message": message or usual, "type": kind}}


def unsaved() -> Response:
    """The answer sent instead of one whose writes the state file failed to commit."""
    return Response.json(503, protocol_error(503, NOT_SAVED))
