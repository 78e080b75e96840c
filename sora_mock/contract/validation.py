"""Reference validation of requests and responses against the contract, with openapi-core.

This is the slow, thorough validator (about a millisecond a call) for tests and checkers;
the server's hot path uses the compiled schemas of :class:`~sora_mock.contract.Contract`.
It takes sora-mock's plain :class:`~sora_mock.contract.Request` and
:class:`~sora_mock.contract.Response` values, httpx requests and responses, and requests'
(the library) prepared requests and responses, read through their attributes. Each
mismatch is a :class:`Mismatch`: a field path, what the contract expects and what was
actually there.

Example::

    response = httpx.get(f"{url}/v1/tasks/{task_id}", headers=auth)
    validate_response(response)  # raises ContractViolation listing each mismatch
    for mismatch in iter_response_errors(response):
        print(mismatch.path, mismatch.expected, mismatch.actual)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.openapi import Contract
from sora_mock.errors import ContractViolation, UsageError

__all__ = [
    "Mismatch",
    "as_request",
    "as_response",
    "iter_request_errors",
    "iter_response_errors",
    "validate_request",
    "validate_response",
]

_SHOWN = 80  # characters of an actual value kept in a message


_BEARER = re.compile(r"(?i)bearer [^\s]+\s*$")


class Mismatch(str):
    """One way a message breaks the contract: ``path: expected X, got Y``.

    A ``str`` (so a list of them prints and compares as text) that also carries the parts:
    ``path`` (e.g. ``body.task_info.can_cancel``, ``header.content-type``, ``status``),
    ``expected`` and ``actual``.
    """

    path: str
    expected: str
    actual: str

    def __new__(cls, path: str, expected: str, actual: str) -> Mismatch:
        self = super().__new__(cls, f"{path}: expected {expected}, got {actual}")
        self.path, self.expected, self.actual = path, expected, actual
        return self


# -- public API ----------------------------------------------------------------------------


def iter_request_errors(request: object, contract: Contract | None = None) -> Iterator[Mismatch]:
    """Each way ``request`` (plain, httpx or requests) breaks the contract."""
    contract = contract or Contract.bundled()
    plain = as_request(request)
    if surely_valid_request(plain, contract):
        return
    for error in contract.openapi.iter_request_errors(_openapi_request(plain, contract)):
        yield from _describe(error, plain, None)


def surely_valid_request(request: Request, contract: Contract) -> bool:
    """True when the compiled schemas alone show ``request`` keeps the contract.

    A conservative screen that spares the common, valid case openapi-core's cost (building
    it takes most of a second; each call about a millisecond): a known operation, a bearer
    token, no query, and for a body a JSON object the compiled schema accepts. Anything
    else, valid or not, goes to openapi-core, which describes what is wrong. A property test
    holds the screen to openapi-core's verdict.
    """
    match = contract.match(request.method, request.path)
    if match.operation is None or request.query:
        return False
    if not _BEARER.match(request.headers.get("authorization", "")):
        return False
    if not match.operation.has_body:
        return not request.body
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return False
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return False
    validator = contract.request_validators.get(match.operation.operation_id)
    return isinstance(body, dict) and validator is not None and validator.is_valid(body)


def iter_response_errors(
    request: object, response: object = None, contract: Contract | None = None
) -> Iterator[Mismatch]:
    """Each way ``response`` (to ``request``) breaks the contract.

    An httpx or requests response carries its request, so it may be passed alone:
    ``iter_response_errors(httpx_response)``.
    """
    contract = contract or Contract.bundled()
    plain_request, plain_response = _pair(request, response)
    openapi_request = _openapi_request(plain_request, contract)
    openapi_response = _openapi_response(plain_response)
    for error in contract.openapi.iter_response_errors(openapi_request, openapi_response):
        yield from _describe(error, plain_request, plain_response)


def validate_request(request: object, contract: Contract | None = None) -> None:
    """Raise :class:`ContractViolation` if ``request`` breaks the contract."""
    plain = as_request(request)
    errors = list(iter_request_errors(plain, contract))
    if errors:
        raise ContractViolation(f"{plain.method} {plain.path}: invalid request", list(errors))


def validate_response(
    request: object, response: object = None, contract: Contract | None = None
) -> None:
    """Raise :class:`ContractViolation` if ``response`` breaks the contract.

    Takes ``(request, response)`` or an httpx/requests response alone.
    """
    plain_request, plain_response = _pair(request, response)
    errors = list(iter_response_errors(plain_request, plain_response, contract))
    if errors:
        raise ContractViolation(
            f"{plain_request.method} {plain_request.path} -> {plain_response.status}: "
            "invalid response",
            list(errors),
        )


# -- adapters ------------------------------------------------------------------------------


def as_request(request: Any) -> Request:
    """A plain :class:`Request` from a plain, httpx or requests request.

    httpx and requests objects are read through their attributes; neither library is
    imported here.

    Raises:
        UsageError: ``request`` is none of these.
    """
    if isinstance(request, Request):
        return request
    kind = _library(request)
    if kind == "httpx" and hasattr(request, "url") and hasattr(request, "method"):
        request.read()  # a streamed body is read once, then kept
        url = request.url
        return Request.build(
            request.method,
            url.path,
            query=url.query.decode("ascii", "replace"),
            headers=request.headers.multi_items(),
            body=request.content,
            base_url=f"{url.scheme}://{url.netloc.decode('ascii')}",
        )
    if kind == "requests" and hasattr(request, "url") and hasattr(request, "method"):
        # A requests.Request is prepared first; a PreparedRequest is used as it is.
        prepared = request.prepare() if type(request).__name__ == "Request" else request
        parts = urlsplit(prepared.url or "")
        body = prepared.body or b""
        return Request.build(
            prepared.method or "GET",
            parts.path or "/",
            query=parts.query,
            headers=dict(prepared.headers),
            body=body.encode() if isinstance(body, str) else bytes(body),
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
    raise UsageError(
        f"cannot validate a {type(request).__name__}: pass a sora_mock Request, "
        "an httpx.Request or a requests.(Prepared)Request"
    )


def as_response(response: Any) -> Response:
    """A plain :class:`Response` from a plain, httpx or requests response.

    Raises:
        UsageError: ``response`` is none of these.
    """
    if isinstance(response, Response):
        return response
    kind = _library(response)
    if kind == "httpx" and hasattr(response, "status_code"):
        # read() returns the body, reading it first if it was streamed.
        return Response(
            response.status_code, tuple(response.headers.multi_items()), response.read()
        )
    if kind == "requests" and hasattr(response, "status_code"):
        return Response(response.status_code, tuple(response.headers.items()), response.content)
    raise UsageError(
        f"cannot validate a {type(response).__name__}: pass a sora_mock Response, "
        "an httpx.Response or a requests.Response"
    )


def _pair(request: object, response: object) -> tuple[Request, Response]:
    if response is None:
        # An httpx or requests response knows the request it answers.
        carried = getattr(request, "request", None)
        if carried is None or _library(request) is None:
            raise UsageError("pass (request, response), or an httpx/requests response alone")
        return as_request(carried), as_response(request)
    return as_request(request), as_response(response)


def _library(value: object) -> str | None:
    root = type(value).__module__.split(".", 1)[0]
    return root if root in ("httpx", "requests") else None


def _server_url(contract: Contract) -> str:
    servers = contract.document.get("servers") or [{"url": "http://localhost"}]
    return str(servers[0]["url"]).rstrip("/")


def _openapi_request(request: Request, contract: Contract) -> Any:
    from openapi_core.testing import MockRequest

    # Paths are matched against the spec's own server, whatever host served the request.
    return MockRequest(
        _server_url(contract),
        request.method.lower(),
        request.path,
        args=request.query_params,
        headers=dict(request.headers),
        data=request.body,
        content_type=request.headers.get("content-type", ""),
    )


def _openapi_response(response: Response) -> Any:
    from openapi_core.testing import MockResponse

    return MockResponse(
        response.body,
        status_code=response.status,
        headers={k.title(): v for k, v in response.headers},
        content_type=response.header("content-type") or "",
    )


# -- describing openapi-core's errors -------------------------------------------------------


def _describe(
    error: BaseException, request: Request, response: Response | None
) -> Iterator[Mismatch]:
    chain = _chain(error)
    names = {type(e).__name__ for e in chain}
    schema_errors = next(
        (list(getattr(e, "schema_errors", [])) for e in chain if getattr(e, "schema_errors", None)),
        [],
    )
    where = "body" if not names & {"InvalidHeader", "InvalidParameter"} else _header_path(chain)
    if schema_errors:
        for schema_error in schema_errors:
            yield _from_schema_error(schema_error, where)
        return
    content_type = (
        response.header("content-type")
        if response is not None
        else request.headers.get("content-type")
    )
    if "SecurityNotFound" in names or "SecurityValidationError" in names:
        header = request.headers.get("authorization")
        shown = "no Authorization header" if header is None else _mask_authorization(header)
        yield Mismatch("header.authorization", "'Bearer <token>'", shown)
    elif "MediaTypeNotFound" in names:
        yield Mismatch("header.content-type", "'application/json'", repr(content_type or ""))
    elif "MediaTypeDeserializeError" in names:
        cause = next((e for e in chain if isinstance(e, ValueError)), chain[-1])
        yield Mismatch("body", "a JSON document", f"undecodable body ({cause})")
    elif "MissingRequiredRequestBody" in names or "MissingData" in names:
        yield Mismatch("body", "a JSON body", "an empty body")
    elif "MissingRequiredHeader" in names or "MissingHeader" in names:
        name = getattr(error, "name", "?")
        yield Mismatch(f"header.{str(name).lower()}", "a required header", "nothing (absent)")
    elif "ResponseNotFound" in names:
        documented = ", ".join(getattr(error, "availableresponses", []) or [])
        yield Mismatch(
            "status",
            f"one of the documented statuses ({documented})",
            str(getattr(error, "http_status", "?")),
        )
    elif names & {"PathNotFound", "OperationNotFound", "ServerNotFound", "PathsNotFound"}:
        yield Mismatch("path", "a documented operation", f"{request.method} {request.path}")
    else:
        yield Mismatch("(message)", "a valid message", f"{type(error).__name__}: {error}")


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def _header_path(chain: Sequence[BaseException]) -> str:
    for error in chain:
        name = getattr(error, "name", None)
        if name:
            return f"header.{str(name).lower()}"
    return "header"


def _from_schema_error(error: Any, root: str) -> Mismatch:
    path = _path(root, list(getattr(error, "absolute_path", [])))
    validator = getattr(error, "validator", None)
    value = getattr(error, "validator_value", None)
    instance = getattr(error, "instance", None)
    actual = _show(instance)
    if validator == "required":
        missing = _missing_property(error, instance, value)
        return Mismatch(_path(path, [missing]), "a required field", "nothing (absent)")
    if validator == "not":
        return Mismatch(path, _negated(value), _present(value, instance))
    expected = _EXPECTED.get(str(validator), lambda v: f"{validator}: {_show(v)}")(value)
    if validator == "type":
        actual = f"{actual} ({_json_type(instance)})"
    return Mismatch(path, expected, actual)


_EXPECTED: dict[str, Any] = {
    "type": lambda v: f"type {v if isinstance(v, str) else ' or '.join(v)}",
    "enum": lambda v: f"one of {', '.join(_show(x) for x in v)}",
    "const": lambda v: f"exactly {_show(v)}",
    "pattern": lambda v: f"a string matching {v}",
    "format": lambda v: f"a string of format {v}",
    "minimum": lambda v: f"a number >= {v}",
    "maximum": lambda v: f"a number <= {v}",
    "exclusiveMinimum": lambda v: f"a number > {v}",
    "exclusiveMaximum": lambda v: f"a number < {v}",
    "minLength": lambda v: f"at least {v} characters",
    "maxLength": lambda v: f"at most {v} characters",
    "minItems": lambda v: f"at least {v} items",
    "maxItems": lambda v: f"at most {v} items",
    "additionalProperties": lambda v: "no additional fields",
}


def _missing_property(error: Any, instance: Any, required: Any) -> str:
    # jsonschema reports one error per missing name: "'name' is a required property".
    message = str(getattr(error, "message", ""))
    if message.count("'") >= 2:
        return message.split("'")[1]
    if isinstance(instance, Mapping) and isinstance(required, list):
        missing = [name for name in required if name not in instance]
        if missing:
            return str(missing[0])
    return "?"


def _forbidden_fields(schema: Any) -> list[str]:
    """Field names a ``not`` schema of ``required`` clauses forbids."""
    if not isinstance(schema, Mapping):
        return []
    if "required" in schema:
        return [str(name) for name in schema["required"]]
    return [name for option in schema.get("anyOf", []) for name in _forbidden_fields(option)]


def _negated(schema: Any) -> str:
    fields = _forbidden_fields(schema)
    if fields:
        return f"no field {' or '.join(fields)} (the task's status does not allow it)"
    return f"not to match {_show(schema)}"


def _present(schema: Any, instance: Any) -> str:
    fields = [
        f for f in _forbidden_fields(schema) if isinstance(instance, Mapping) and f in instance
    ]
    if fields:
        status = instance.get("status") if isinstance(instance, Mapping) else None
        return f"{', '.join(fields)} present (status {_show(status)})"
    return _show(instance)


def _path(root: str, parts: Sequence[Any]) -> str:
    text = root
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 1]}…"


def _mask_authorization(header: str) -> str:
    scheme, _, token = header.partition(" ")
    shown = f"{token[:4]}…" if len(token) > 6 else "***"
    return repr(f"{scheme} {shown}" if token else scheme)
