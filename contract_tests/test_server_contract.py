"""Contract checks any sora-character server must pass, run here against the mock."""

from __future__ import annotations

import httpx

from sora_mock.clock import VirtualClock
from sora_mock.messages import Request, Response
from sora_mock.validation import iter_response_errors

TOKEN = {"Authorization": "Bearer sk-contract-suite-1"}
BODY = {"model": "sora-character", "video_url": "https://example.com/v.mp4", "timestamps": "0,2"}


def _violations(response: httpx.Response) -> list[str]:
    request = Request.build(
        response.request.method,
        response.request.url.path,
        headers=dict(response.request.headers),
        body=response.request.content,
    )
    plain = Response(response.status_code, tuple(response.headers.items()), response.content)
    return list(iter_response_errors(request, plain))


def test_create_answers_200_with_a_pending_task(api: httpx.Client) -> None:
    response = api.post("/v1/videos/generations", json=BODY, headers=TOKEN)
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert _violations(response) == []


def test_polling_reaches_a_terminal_state(api: httpx.Client, clock: VirtualClock) -> None:
    task_id = api.post("/v1/videos/generations", json=BODY, headers=TOKEN).json()["id"]
    for _ in range(100):
        clock.advance(5)
        polled = api.get(f"/v1/tasks/{task_id}", headers=TOKEN)
        assert _violations(polled) == []
        if polled.json()["status"] in ("completed", "failed"):
            break
    assert polled.json()["status"] in ("completed", "failed")


def test_invalid_requests_get_documented_4xx(api: httpx.Client) -> None:
    cases = [
        api.post("/v1/videos/generations", json={"model": "sora-character"}, headers=TOKEN),
        api.post("/v1/videos/generations", json=BODY),
        api.get("/v1/tasks/not-a-task-id", headers=TOKEN),
        api.get("/v1/tasks/task-unified-1-00000000", headers=TOKEN),
    ]
    assert [r.status_code for r in cases] == [400, 401, 400, 404]
    for response in cases:
        assert _violations(response) == []
