"""The engine over real HTTP: uvicorn on a free loopback port."""

from __future__ import annotations

import json
import socket

import httpx

from sora_mock.contract.validation import validate_response
from sora_mock.engine.clock import VirtualClock
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY, auth


def test_health(client: httpx.Client) -> None:
    response = client.get("/__mock/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_full_lifecycle_over_http(client: httpx.Client, clock: VirtualClock) -> None:
    created = client.post(CREATE_PATH, json=VALID_BODY, headers=auth())
    validate_response(created)
    assert created.status_code == 200
    assert created.headers["content-type"] == "application/json"
    task_id = created.json()["id"]
    statuses, progress = [], []
    for _ in range(40):
        clock.advance(5)
        polled = client.get(f"/v1/tasks/{task_id}", headers=auth())
        validate_response(polled)
        statuses.append(polled.json()["status"])
        progress.append(polled.json()["progress"])
    assert statuses[-1] == "completed"
    assert "processing" in statuses
    assert progress == sorted(progress)
    url = polled.json()["result_data"]["profile_picture_url"]
    assert url.startswith(client.base_url.scheme + "://" + client.base_url.netloc.decode())
    picture = client.get(url)
    assert picture.status_code == 200
    assert picture.content.startswith(b"\x89PNG")


def test_errors_over_http_use_the_envelope(client: httpx.Client) -> None:
    missing = client.post(CREATE_PATH, content=b"{", headers=auth())
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_request"
    wrong = client.put(CREATE_PATH, headers=auth())
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    other = client.get("/v1/tasks/task-unified-1-abcdefgh", headers=auth("sk-x-12345678"))
    assert other.status_code == 404


def test_oversized_body_gets_413_without_killing_the_server(client: httpx.Client) -> None:
    big = b'{"model": "' + b"x" * 3_000_000 + b'"}'
    response = client.post(CREATE_PATH, content=big, headers=auth())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert response.headers["connection"] == "close"  # the rest of the body goes unread
    assert client.get("/__mock/health").status_code == 200


def test_garbage_on_the_socket_does_not_stop_the_server(
    server: BackgroundServer, client: httpx.Client
) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        raw.recv(1024)
    body = json.dumps(VALID_BODY).encode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            b"POST " + CREATE_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body) + 50).encode()
            + b"\r\n\r\n"
            + body[:10]
        )
        raw.shutdown(socket.SHUT_WR)  # half-closed, body truncated
        raw.recv(1024)
    assert client.get("/__mock/health").status_code == 200


def test_tasks_are_isolated_between_tokens_over_http(client: httpx.Client) -> None:
    task_id = client.post(CREATE_PATH, json=VALID_BODY, headers=auth("sk-alice-0001")).json()["id"]
    assert client.get(f"/v1/tasks/{task_id}", headers=auth("sk-alice-0001")).status_code == 200
    bob = client.get(f"/v1/tasks/{task_id}", headers=auth("sk-bob-00001"))
    assert bob.status_code == 403
    assert bob.json()["error"]["code"] == "permission_denied"
