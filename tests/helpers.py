"""Small builders shared by the tests."""

from __future__ import annotations

import json
from typing import Any

from sora_mock.engine import Engine
from sora_mock.messages import Request, Response

CREATE_PATH = "/v1/videos/generations"
TOKEN = "sk-test-0123456789"
VALID_BODY: dict[str, Any] = {
    "model": "sora-character",
    "video_url": "https://example.com/video.mp4",
    "timestamps": "1,3",
}


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def create_request(
    body: Any = None, token: str = TOKEN, headers: dict[str, str] | None = None
) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(VALID_BODY if body is None else body)
    return Request.build(
        "POST",
        CREATE_PATH,
        headers=headers if headers is not None else auth(token),
        body=raw if isinstance(raw, bytes) else raw.encode(),
    )


def task_request(task_id: str, token: str = TOKEN) -> Request:
    return Request.build("GET", f"/v1/tasks/{task_id}", headers=auth(token))


def create(engine: Engine, body: Any = None, token: str = TOKEN) -> Response:
    return engine.handle(create_request(body, token))


def poll(engine: Engine, task_id: str, token: str = TOKEN) -> Response:
    return engine.handle(task_request(task_id, token))


def error_of(response: Response) -> dict[str, Any]:
    body = response.json_body()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error
