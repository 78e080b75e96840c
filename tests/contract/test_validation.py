"""validate_* / iter_*_errors for plain values, httpx and requests objects."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import requests

from sora_mock.contract import Contract, Request, Response, spec_paths
from sora_mock.contract.validation import (
    Mismatch,
    iter_request_errors,
    iter_response_errors,
    validate_request,
    validate_response,
)
from sora_mock.errors import ContractViolation, UsageError
from tests.helpers import CREATE_PATH, PENDING_TASK, VALID_BODY, auth

TASK = PENDING_TASK
GET = Request.build("GET", f"/v1/tasks/{TASK['id']}", headers=auth())


def _errors(body: Any, status: int = 200, headers: Any = ()) -> list[Mismatch]:
    return list(iter_response_errors(GET, Response.json(status, body, headers)))


def test_a_mismatch_names_path_expected_and_actual() -> None:
    [progress] = _errors({**TASK, "progress": 150})
    assert (progress.path, progress.expected, progress.actual) == (
        "body.progress",
        "a number <= 100",
        "150",
    )
    assert progress == "body.progress: expected a number <= 100, got 150"


@pytest.mark.parametrize(
    ("body", "path", "expected", "actual"),
    [
        (
            {k: v for k, v in TASK.items() if k != "usage"},
            "body.usage",
            "a required field",
            "nothing (absent)",
        ),
        ({**TASK, "status": "done"}, "body.status", "one of", '"done"'),
        ({**TASK, "created": "now"}, "body.created", "type integer", '"now" (string)'),
        (
            {**TASK, "result_data": {"character_name": "c", "profile_picture_url": "x"}},
            "body",
            "no field result_data",
            'result_data present (status "pending")',
        ),
        (
            {
                **TASK,
                "status": "completed",
                "progress": 99,
                "result_data": {
                    "character_name": "c",
                    "profile_picture_url": "https://e.com/p.png",
                },
            },
            "body.progress",
            "exactly 100",
            "99",
        ),
        ({**TASK, "id": "task-1"}, "body.id", "a string matching", '"task-1"'),
    ],
)
def test_schema_mismatches(body: Any, path: str, expected: str, actual: str) -> None:
    found = _errors(body)
    match = [m for m in found if m.path == path]
    assert match, found
    assert expected in match[0].expected
    assert match[0].actual == actual


def test_non_schema_mismatches() -> None:
    assert _errors({"error": {"code": "x", "message": "y", "type": "z"}}, 418)[0].path == "status"
    [header] = _errors(
        {"error": {"code": "rate_limit_exceeded", "message": "m", "type": "evo_api_error"}}, 429
    )
    assert (header.path, header.actual) == ("header.retry-after", "nothing (absent)")
    text = Response(200, (("content-type", "text/plain"),), json.dumps(TASK).encode())
    assert [m.path for m in iter_response_errors(GET, text)] == ["header.content-type"]
    [missing] = iter_request_errors(
        Request.build("POST", CREATE_PATH, headers={"content-type": "application/json"}, body=b"{}")
    )
    assert missing.path == "header.authorization"
    [unparsable] = iter_request_errors(
        Request.build("POST", CREATE_PATH, headers=auth(), body=b"{")
    )
    assert (unparsable.path, unparsable.expected) == ("body", "a JSON document")
    [route] = iter_request_errors(Request.build("GET", "/v1/nope", headers=auth()))
    assert route.path == "path"


def test_validate_raises_a_contract_violation_listing_each_mismatch() -> None:
    bad = {**TASK, "progress": -1, "object": "task"}
    with pytest.raises(ContractViolation) as caught:
        validate_response(GET, Response.json(200, bad))
    assert isinstance(caught.value, AssertionError)
    assert len(caught.value.mismatches) == 2
    assert "body.progress: expected a number >= 0, got -1" in str(caught.value)


def _httpx_client(status: int, body: Any) -> httpx.Client:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return httpx.Client(base_url="https://api.example.com", transport=transport)


def test_httpx_objects() -> None:
    with _httpx_client(200, TASK) as client:
        good = client.get(f"/v1/tasks/{TASK['id']}", headers={"Authorization": "Bearer sk-1"})
        bad = client.get("/v1/tasks/x", headers={"Authorization": "Bearer sk-1"})
        create = client.post(CREATE_PATH, json=VALID_BODY, headers={"Authorization": "Bearer sk-1"})
    validate_response(good)  # the response carries its request
    validate_response(good.request, good)
    validate_request(create.request)
    with _httpx_client(200, {**TASK, "progress": 101}) as client:
        broken = client.get(f"/v1/tasks/{TASK['id']}", headers={"Authorization": "Bearer sk-1"})
    assert [m.path for m in iter_response_errors(broken)] == ["body.progress"]
    assert list(iter_response_errors(bad)) == []  # any id string is a valid path parameter


def test_requests_objects() -> None:
    prepared = requests.Request(
        "POST",
        f"https://api.example.com{CREATE_PATH}",
        json={"model": "x"},
        headers={"Authorization": "Bearer sk-1"},
    ).prepare()
    # An unknown model is the only mismatch: the model's own schema is not chosen.
    assert {m.path for m in iter_request_errors(prepared)} == {"body.model"}
    known = requests.Request(
        "POST",
        f"https://api.example.com{CREATE_PATH}",
        json={"model": "sora-character"},
        headers={"Authorization": "Bearer sk-1"},
    ).prepare()
    assert {m.path for m in iter_request_errors(known)} == {"body.video_url"}
    response = requests.Response()
    response.status_code = 400
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps(
        {
            "error": {
                "code": "invalid_request",
                "message": "m",
                "type": "invalid_request_error",
                "param": "model",
            }
        }
    ).encode()
    response.request = prepared
    validate_response(response)
    response._content = b'{"error": {}}'
    assert {m.path for m in iter_response_errors(response)} == {
        "body.error.code",
        "body.error.message",
        "body.error.type",
    }


def test_other_objects_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot validate a dict"):
        validate_request({"method": "GET"})
    with pytest.raises(UsageError, match="httpx/requests response alone"):
        validate_response(GET)


def test_the_bundled_spec_is_a_valid_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    # Contract.bundled() remembers a passed check; this test checks every document again.
    monkeypatch.setenv("SORA_MOCK_NO_SPEC_CACHE", "1")
    for path in spec_paths():
        assert Contract.from_path(path).document["openapi"].startswith("3.1")
    merged = Contract.bundled().document
    assert Contract.from_dict(merged).document == merged
