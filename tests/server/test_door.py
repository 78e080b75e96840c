"""The HTTP door's own answers: an engine bug becomes the 500 envelope, not a traceback."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from sora_mock.contract.messages import Request, Response
from sora_mock.engine.core import Engine
from sora_mock.server.edge import error_bytes
from sora_mock.server.envelopes import MAX_HEAD_BYTES, protocol_error
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth


def test_an_engine_bug_answers_the_500_envelope_and_is_logged(
    engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(request: Request) -> Response:
        raise KeyError("a bug")

    monkeypatch.setattr(engine, "handle", broken)
    caplog.set_level(logging.ERROR, logger="sora_mock.requests")
    with BackgroundServer(engine) as server:
        response = httpx.post(f"{server.base_url}{CREATE_PATH}", json=VALID_BODY, headers=auth())
        assert response.status_code == 500
        assert response.json() == {
            "error": {
                "code": "internal_error",
                "message": "Internal server error",
                "type": "api_error",
            }
        }
        assert b"Traceback" not in response.content
        monkeypatch.undo()
        assert httpx.get(f"{server.base_url}/__mock/health").status_code == 200
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "POST /v1/videos/generations" in record.getMessage()
    assert record.exc_info is not None


def test_protocol_error_responses_are_complete_http() -> None:
    raw = error_bytes(431, [(b"date", b"Sat, 28 Nov 2026 00:00:00 GMT")])
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    headers = dict(line.split(b": ", 1) for line in lines[1:])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"connection"] == b"close"
    assert json.loads(body) == protocol_error(431)
    assert str(MAX_HEAD_BYTES) in protocol_error(431)["error"]["message"]
