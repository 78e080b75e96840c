"""Reference validation of requests and responses against the contract, with openapi-core.

This is the slow, thorough validator (about a millisecond a call) for tests and checkers;
the server's hot path uses the compiled schemas in :mod:`sora_mock.contract`. Each
mismatch is reported as ``field path: what is wrong``.

Example::

    validate_response(request, response)  # raises ContractViolation listing each mismatch
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sora_mock.contract import Contract
from sora_mock.errors import ContractViolation
from sora_mock.messages import Request, Response


def iter_request_errors(request: Request, contract: Contract | None = None) -> Iterator[str]:
    """Each way ``request`` breaks the contract, as ``field path: message``."""
    contract = contract or Contract.bundled()
    for error in contract.openapi.iter_request_errors(_openapi_request(request, contract)):
        yield from _describe(error)


def iter_response_errors(
    request: Request, response: Response, contract: Contract | None = None
) -> Iterator[str]:
    """Each way ``response`` (to ``request``) breaks the contract."""
    contract = contract or Contract.bundled()
    openapi_request = _openapi_request(request, contract)
    openapi_response = _openapi_response(response)
    for error in contract.openapi.iter_response_errors(openapi_request, openapi_response):
        yield from _describe(error)


def validate_request(request: Request, contract: Contract | None = None) -> None:
    """Raise :class:`ContractViolation` if ``request`` breaks the contract."""
    errors = list(iter_request_errors(request, contract))
    if errors:
        raise ContractViolation(f"{request.method} {request.path}: invalid request", errors)


def validate_response(
    request: Request, response: Response, contract: Contract | None = None
) -> None:
    """Raise :class:`ContractViolation` if ``response`` breaks the contract."""
    errors = list(iter_response_errors(request, response, contract))
    if errors:
        raise ContractViolation(
            f"{request.method} {request.path} -> {response.status}: invalid response", errors
        )


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


def _describe(error: BaseException) -> Iterator[str]:
    schema_errors = _schema_errors(error)
    if not schema_errors:
        yield f"{type(error).__name__}: {error}"
        return
    for schema_error in schema_errors:
        path = "/".join(str(p) for p in getattr(schema_error, "absolute_path", [])) or "(body)"
        yield f"{path}: {getattr(schema_error, 'message', schema_error)}"


def _schema_errors(error: BaseException) -> list[Any]:
    seen: BaseException | None = error
    while seen is not None:
        found = getattr(seen, "schema_errors", None)
        if found:
            return list(found)
        seen = seen.__cause__ or seen.__context__
    return []
