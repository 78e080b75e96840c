"""The live page's route (``/__mock/``) and what the admin task listing says of ended tasks."""

from __future__ import annotations

from typing import Any

import pytest

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.resources import live_page_file
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from tests.helpers import admin_call, auth, create, create_request, poll


def _get(engine: Engine, path: str, client: str | None = "127.0.0.1", **headers: str) -> Response:
    return admin_call(engine, "GET", path, client=client, headers=headers)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/__mock/", "text/html; charset=utf-8"),
        ("/__mock/live.js", "text/javascript; charset=utf-8"),
        ("/__mock/live.css", "text/css; charset=utf-8"),
    ],
)
def test_the_page_and_its_files_are_served_with_a_strict_policy(
    engine: Engine, path: str, media_type: str
) -> None:
    response = _get(engine, path, host="127.0.0.1:8000")
    assert response.status == 200
    assert response.header("content-type") == media_type
    assert response.header("cache-control") == "no-store"
    policy = response.header("content-security-policy") or ""
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy  # no source beyond the mock's own origin
    assert response.body == live_page_file(path.rsplit("/", 1)[1] or "index.html")


def test_the_page_loads_only_its_own_files() -> None:
    html = live_page_file("index.html").decode()
    assert "<script>" not in html
    assert "<style" not in html
    assert "http://" not in html
    assert "https://" not in html


def test_the_page_inserts_values_as_text_and_sends_json() -> None:
    script = live_page_file("live.js").decode()
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script
    assert '"Content-Type": "application/json"' in script


@pytest.mark.parametrize(
    ("client", "headers"),
    [
        ("127.0.0.1", {"host": "evil.example:8000"}),  # DNS rebinding
        ("203.0.113.9", {"host": "127.0.0.1:8000"}),
    ],
)
def test_the_page_has_the_admin_api_s_guard(
    engine: Engine, client: str, headers: dict[str, str]
) -> None:
    for path in ("/__mock/", "/__mock/live.js"):
        response = _get(engine, path, client, **headers)
        assert response.status == 403
        assert response.json_body()["error"]["code"] == "admin_forbidden"


def test_the_page_only_reads(engine: Engine) -> None:
    request = Request.build("POST", "/__mock/", client="127.0.0.1")
    assert engine.handle(request).status == 405
    assert _get(engine, "/__mock/index.htm").status == 404
    assert _get(engine, "/__mock/live.js/x").status == 404


# -- ended_at --------------------------------------------------------------------------------


def _view(engine: Engine, task_id: str) -> dict[str, Any]:
    view: dict[str, Any]
    [view] = [t for t in _get(engine, "/__mock/tasks").json_body()["tasks"] if t["id"] == task_id]
    return view


def test_a_task_ended_by_the_clock_shows_its_end_before_any_poll(
    engine: Engine, clock: VirtualClock
) -> None:
    task_id = create(engine).json_body()["id"]
    task = engine.store.get(task_id)
    assert task is not None
    end = task.created_at + task.plan.seconds_to_end
    assert _view(engine, task_id)["ended_at"] is None
    clock.advance(task.plan.seconds_to_end + 30)
    unread = _view(engine, task_id)
    assert (unread["status"], unread["ended_at"]) == ("completed", end)
    poll(engine, task_id)
    clock.advance(100)
    read = _view(engine, task_id)
    assert (read["status"], read["ended_at"]) == ("completed", end)


def test_a_task_ended_by_polls_shows_its_end_once_a_poll_ended_it(
    engine: Engine, clock: VirtualClock
) -> None:
    headers = {**auth(), "prefer": "scenario=poll-driven"}
    request = create_request(headers=headers)
    task_id = engine.handle(request).json_body()["id"]
    seen = [poll(engine, task_id).json_body()["status"] for _ in range(4)]
    assert seen == ["pending", "processing", "processing", "processing"]
    clock.advance(10)
    waiting = _view(engine, task_id)  # the next poll ends it; none has yet
    assert (waiting["status"], waiting["ended_at"]) == ("processing", None)
    ended_at = clock.now()
    assert poll(engine, task_id).json_body()["status"] == "completed"
    clock.advance(10)
    ended = _view(engine, task_id)
    assert (ended["status"], ended["ended_at"]) == ("completed", ended_at)
