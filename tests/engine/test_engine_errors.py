"""Every documented error of both operations, produced and checked against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.openapi import Contract
from sora_mock.contract.validation import validate_response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from tests.helpers import (
    CREATE_PATH,
    TOKEN,
    VALID_BODY,
    auth,
    create,
    create_request,
    error_of,
    task_request,
)


def _assert_documented(
    contract: Contract, operation_id: str, request: Request, response: Response, status: int
) -> None:
    assert response.status == status, response.body
    documented = contract.operation(operation_id).error(status)
    error = error_of(response)
    assert (error["code"], error["type"]) == (documented.code, documented.type)
    assert error["message"]
    validate_response(request, response, contract)


@pytest.fixture
def task_id(engine: Engine) -> str:
    body: str = create(engine).json_body()["id"]
    return body


CREATE_CASES = {
    400: lambda: create_request({"model": "sora-character"}),
    401: lambda: create_request(headers={"content-type": "application/json"}),
    402: lambda: create_request(token="sk-demo-no-credits"),
    403: lambda: create_request(token="sk-demo-no-access"),
    413: lambda: create_request(b'{"pad": "' + b"x" * 1_048_577 + b'"}'),
    500: lambda: create_request(token="sk-demo-broken"),
}


@pytest.mark.parametrize("status", sorted(CREATE_CASES))
def test_create_errors(engine: Engine, contract: Contract, status: int) -> None:
    request = CREATE_CASES[status]()
    _assert_documented(
        contract, "createCharacterGeneration", request, engine.handle(request), status
    )


def test_create_documented_messages_match_the_spec(engine: Engine, contract: Contract) -> None:
    op = contract.operation("createCharacterGeneration")
    for status in (401, 402, 403, 500):
        error = error_of(engine.handle(CREATE_CASES[status]()))
        assert error["message"] == op.error(status).message


def test_create_rate_limit_sends_retry_after_and_recovers(
    engine: Engine, contract: Contract, clock: VirtualClock
) -> None:
    request = create_request(token="sk-demo-rate-limited")
    assert engine.handle(request).status == 200
    limited = engine.handle(request)
    _assert_documented(contract, "createCharacterGeneration", request, limited, 429)
    assert limited.header("retry-after") == "60"
    clock.advance(60)
    assert engine.handle(request).status == 200


def test_task_errors(engine: Engine, contract: Contract, task_id: str) -> None:
    cases = {
        400: task_request("not-a-task"),
        401: Request.build("GET", f"/v1/tasks/{task_id}"),
        402: task_request(task_id, token="sk-demo-overdrawn"),
        403: task_request(task_id, token="sk-another-token-1"),
        404: task_request("task-unified-1767917446-zzzzzzzz"),
        500: task_request(task_id, token="sk-demo-broken"),
    }
    for status, request in cases.items():
        _assert_documented(contract, "getTaskDetail", request, engine.handle(request), status)
    error = error_of(engine.handle(cases[400]))
    assert error["param"] == "task_id"


def test_task_rate_limit(engine: Engine, contract: Contract, task_id: str) -> None:
    request = task_request(task_id, token="sk-demo-rate-limited")
    engine.handle(request)
    limited = engine.handle(request)
    _assert_documented(contract, "getTaskDetail", request, limited, 429)
    assert int(limited.header("retry-after") or 0) >= 1


def test_unknown_tokens_are_refused_when_configured(clock: VirtualClock) -> None:
    config = Engine(clock=clock).config.with_overrides(
        {"auth": {"accept_unknown_tokens": False}, "tokens": {"sk-known-token": {}}}
    )
    engine = Engine(config=config, clock=clock)
    assert create(engine, token="sk-stranger-123").status == 401
    assert create(engine, token="sk-known-token").status == 200


def test_quota_for_n_calls_allows_exactly_n(clock: VirtualClock) -> None:
    config = Engine(clock=clock).config.with_overrides(
        {"tokens": {"sk-three-calls": {"credits": 0.3}}}
    )
    engine = Engine(config=config, clock=clock)
    statuses = [create(engine, token="sk-three-calls").status for _ in range(4)]
    assert statuses == [200, 200, 200, 402]
    assert len(engine.store) == 3


def test_unknown_path_is_404_and_wrong_method_405(engine: Engine) -> None:
    missing = engine.handle(Request.build("GET", "/v1/nothing", headers=auth()))
    assert missing.status == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = engine.handle(Request.build("DELETE", CREATE_PATH, headers=auth()))
    assert wrong.status == 405
    assert wrong.header("allow") == "POST"
    assert error_of(wrong)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"video_url": "https://a.com/v.mp4"}, "model", "required"),
        ({"model": "sora-2", "video_url": "https://a.com/v.mp4"}, "model", "sora-character"),
        ({"model": "sora-character"}, "video_url", "required"),
        ({"model": "sora-character", "video_url": 7}, "video_url", "string"),
        ({"model": "sora-character", "video_url": "not a url"}, "video_url", "uri"),
        ({"model": "sora-character", "video_url": "ftp://a.com/v.mp4"}, "video_url", "http"),
        ({"model": "sora-character", "video_url": "https://a.com/v.avi"}, "video_url", ".mp4"),
        ({**VALID_BODY, "timestamps": "1-3"}, "timestamps", "Invalid timestamps parameter"),
        ({**VALID_BODY, "timestamps": "0,3"}, "timestamps", "exceeds 2 seconds"),
        ({**VALID_BODY, "timestamps": "3,1"}, "timestamps", "after start"),
        ({**VALID_BODY, "timestamps": 2}, "timestamps", "string"),
        ({**VALID_BODY, "callback_url": "http://example.com/hook"}, "callback_url", "HTTPS"),
        ({**VALID_BODY, "callback_url": "https://127.0.0.1/hook"}, "callback_url", "loopback"),
        ({**VALID_BODY, "callback_url": "https://10.1.2.3/hook"}, "callback_url", "private"),
    ],
)
def test_invalid_create_bodies_name_the_field(
    engine: Engine,
    contract: Contract,
    body: dict[str, Any],
    param: str,
    fragment: str,
) -> None:
    request = create_request(body)
    response = engine.handle(request)
    _assert_documented(contract, "createCharacterGeneration", request, response, 400)
    error = error_of(response)
    assert error["param"] == param
    assert fragment in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/v.mp4",
        "http://example.com/path/v.MOV",
        "https://example.com/v.webm?token=abc&x=1",
        "https://cdn.example.com/a/b/c.Mp4#frag",
    ],
)
def test_video_url_forms_that_are_accepted(engine: Engine, url: str) -> None:
    assert create(engine, {"model": "sora-character", "video_url": url}).status == 200


def test_unknown_request_fields_are_accepted(engine: Engine) -> None:
    assert create(engine, {**VALID_BODY, "seed": 5, "extra": {"a": 1}}).status == 200


def test_loopback_callbacks_when_allowed(clock: VirtualClock) -> None:
    config = Engine(clock=clock).config.with_overrides({"callbacks": {"allow_loopback": True}})
    engine = Engine(config=config, clock=clock)
    body = {**VALID_BODY, "callback_url": "http://127.0.0.1:9/hook"}
    assert create(engine, body).status == 200
    assert create(engine, {**VALID_BODY, "callback_url": "https://10.0.0.1/x"}).status == 400


def test_journal_records_each_request_with_masked_token(engine: Engine) -> None:
    create(engine)
    engine.handle(task_request("bad"))
    entries = list(engine.journal)
    assert [e.status for e in entries] == [200, 400]
    assert entries[0].operation == "createCharacterGeneration"
    assert all(TOKEN not in str(e.as_dict()) for e in entries)
