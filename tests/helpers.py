"""Small builders shared by the tests."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.openapi import Contract
from sora_mock.contract.resources import admin_spec_path
from sora_mock.engine.core import Engine
from sora_mock.engine.lifecycle import Lifecycle
from sora_mock.engine.reported import Reported
from sora_mock.engine.store.task import Task

CREATE_PATH = "/v1/videos/generations"
TOKEN = "sk-test-0123456789"
#: The ``sora-mock`` command, as a user runs it.
COMMAND = [sys.executable, "-m", "sora_mock"]
#: A pending task as the API shows it (only the required fields).
PENDING_TASK: dict[str, Any] = {
    "created": 1767917446,
    "id": "task-unified-1767917446-5lqy8zzv",
    "model": "sora-character",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 150},
    "type": "video",
    "usage": {"billing_rule": "per_call", "credits_reserved": 0.1},
}
VALID_BODY: dict[str, Any] = {
    "model": "sora-character",
    "video_url": "https://example.com/video.mp4",
    "timestamps": "1,3",
}


def start_serve(*options: str, says: str = "") -> tuple[subprocess.Popen[str], str]:
    """``sora-mock serve --port 0 OPTIONS`` started in a subprocess, with the URL it printed
    (the caller stops it); a server that does not start, or whose start-up line does not
    hold ``says``, fails the test with its stderr."""
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    started = re.match(r"sora-mock: serving \d+ models? \(.+\) on http://127\.0\.0\.1:\d+ ", first)
    if not started or says not in first:
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise AssertionError(f"the server did not start: {first}{errors}")
    return process, first.split(" on ")[1].split(" ")[0]


def stop_serve(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop a server :func:`start_serve` started; what it printed after the start-up line
    (stdout, stderr). Reads stdout through the pipe's own buffer first: the start-up line's
    ``readline`` may already hold the lines after it, which ``communicate`` would miss."""
    process.terminate()
    assert process.stdout is not None
    out = process.stdout.read()
    _, err = process.communicate(timeout=10)
    return out, err


@contextlib.contextmanager
def serve_command(*options: str, says: str = "") -> Iterator[tuple[subprocess.Popen[str], str]]:
    """:func:`start_serve` as a context: the server is stopped on leaving."""
    process, url = start_serve(*options, says=says)
    try:
        yield process, url
    finally:
        process.terminate()
        process.communicate(timeout=10)  # also closes the pipes


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


def a_task(**changes: Any) -> Task:
    """A stored task with plain values (default plan, no reported values), with ``changes``."""
    task = Task(
        id="task-unified-1-aaaaaaaa",
        token="sk-test",
        created_at=1.0,
        model="sora-character",
        plan=Lifecycle(),
        reported=Reported({"estimated_time": 150}),
        draw=7,
        base_url="http://127.0.0.1:8000",
    )
    return dataclasses.replace(task, **changes)


def deny_commit(action: int, what: str | None, *_: str | None) -> int:
    """A SQLite authorizer under which ``COMMIT`` cannot be prepared: a commit that fails
    (``connection.set_authorizer(deny_commit)``)."""
    refused = action == sqlite3.SQLITE_TRANSACTION and what == "COMMIT"
    return sqlite3.SQLITE_DENY if refused else sqlite3.SQLITE_OK


@functools.cache
def admin_contract() -> Contract:
    """The mock's own routes as ``spec/mock-admin.yaml`` documents them."""
    return Contract.from_path(admin_spec_path())


def admin_call(
    engine: Engine,
    method: str,
    path: str,
    body: Any = None,
    client: str | None = "127.0.0.1",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Response:
    """Send a request to the mock's own routes (``body`` as JSON unless bytes) and check a
    JSON answer of a route that exists against ``spec/mock-admin.yaml``."""
    from sora_mock.contract.validation import iter_response_errors  # openapi-core: heavy

    raw = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else b"")
    )
    request = Request.build(
        method,
        path,
        query=query,
        body=raw,
        client=client,
        headers={"content-type": "application/json", **(headers or {})},
    )
    response = engine.handle(request)
    routed = not (response.status == 405 or b'"code":"not_found"' in response.body)
    if routed and response.header("content-type") == "application/json":
        errors = list(iter_response_errors(request, response, admin_contract()))
        assert errors == [], response.body
    return response
