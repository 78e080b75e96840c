"""Malformed input always gets a 4xx envelope, never a 500 or a stack trace."""

from __future__ import annotations

import pytest

from sora_mock.contract.messages import Request
from sora_mock.engine.core import Engine
from tests.helpers import CREATE_PATH, auth, create, create_request, error_of, task_request

BAD_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"\xff\xfe\x00",
    b'{"model": NaN}',
    b'{"model": "sora-character", "model": "x"}',
    b"[" * 100_000,
    b'{"n": ' + b"9" * 10_000 + b"}",
    b'{"model": "sora-character", "video_url": "https://a.com/v.mp4\x00"}',
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=lambda b: repr(b[:20]))
def test_malformed_bodies_get_400(engine: Engine, body: bytes) -> None:
    response = engine.handle(create_request(body))
    assert response.status == 400, response.body
    assert error_of(response)["code"] == "invalid_request"


@pytest.mark.parametrize(
    "content_type", ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_content_type_gets_400(engine: Engine, content_type: str) -> None:
    headers = {"authorization": "Bearer sk-test-0123456789"}
    if content_type:
        headers["content-type"] = content_type
    response = engine.handle(create_request(headers=headers))
    assert response.status == 400
    assert "Content-Type" in error_of(response)["message"]


def test_json_with_charset_is_accepted(engine: Engine) -> None:
    headers = {**auth(), "content-type": "application/json; charset=utf-8"}
    assert engine.handle(create_request(headers=headers)).status == 200


def test_huge_body_gets_413(engine: Engine) -> None:
    response = engine.handle(create_request(b" " * 2_000_000))
    assert response.status == 413


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer two words",
        "Bearer ünïcode",
        "Bearer " + "a" * 600,
    ],
)
def test_missing_or_malformed_auth_gets_401(engine: Engine, header: str | None) -> None:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["authorization"] = header
    for request in (
        create_request(headers=headers),
        Request.build("GET", "/v1/tasks/task-unified-1-abcdefgh", headers=headers),
    ):
        response = engine.handle(request)
        assert response.status == 401
        assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize(
    "task_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "task-unified-",
        "task-unified-../../x",
        "TASK-UNIFIED-1-abcdefgh",
        "task-unified-1-ÄÖÜ",
        "task-unified-1-abcdefgh%00",
        "x" * 5000,
        "%00",
        "\u202e",
    ],
)
def test_odd_task_ids_get_400_or_404(engine: Engine, task_id: str) -> None:
    response = engine.handle(task_request(task_id))
    assert response.status in (400, 404)
    assert error_of(response)["code"] in ("invalid_task_id", "task_not_found", "not_found")


def test_bad_input_changes_nothing_stored(engine: Engine) -> None:
    task_id = create(engine).json_body()["id"]
    for body in BAD_BODIES:
        engine.handle(create_request(body))
    assert len(engine.store) == 1
    assert task_id in engine.store


def test_unknown_mock_route_is_404(engine: Engine) -> None:
    response = engine.handle(Request.build("GET", "/__mock/nothing"))
    assert response.status == 404
    assert engine.handle(Request.build("POST", "/__mock/health")).status == 405
    assert engine.handle(Request.build("GET", CREATE_PATH + "/x")).status == 404
