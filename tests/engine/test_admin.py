"""The admin API under /__mock/, checked against spec/mock-admin.yaml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.openapi import Contract
from sora_mock.contract.resources import admin_spec_path
from sora_mock.contract.validation import iter_response_errors
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from tests.helpers import TOKEN, create, create_request, poll

ADMIN = Contract.from_path(admin_spec_path())


def _call(
    engine: Engine,
    method: str,
    path: str,
    body: Any = None,
    client: str | None = "127.0.0.1",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Response:
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
        assert list(iter_response_errors(request, response, ADMIN)) == [], response.body
    return response


def test_tasks_listing_and_detail(engine: Engine, clock: VirtualClock) -> None:
    task_id = create(engine).json_body()["id"]
    clock.advance(200)
    listing = _call(engine, "GET", "/__mock/tasks").json_body()
    assert listing["count"] == 1
    view = listing["tasks"][0]
    assert view["id"] == task_id
    assert view["status"] == "completed"
    assert TOKEN not in json.dumps(listing)
    detail = _call(engine, "GET", f"/__mock/tasks/{task_id}").json_body()
    assert detail["body"]["status"] == "completed"
    assert detail["polls"] == 0, "reading through the admin API is not a poll"
    assert _call(engine, "GET", "/__mock/tasks", query="status=pending").json_body()["count"] == 0
    assert _call(engine, "GET", "/__mock/tasks/task-unified-1-zzzzzzzz").status == 404


def test_reset_forgets_everything(engine: Engine) -> None:
    task_id = create(engine).json_body()["id"]
    assert _call(engine, "POST", "/__mock/reset").json_body() == {"reset": True}
    assert len(engine.store) == 0
    assert poll(engine, task_id).status == 404
    assert _call(engine, "GET", "/__mock/reset").status == 405


def test_clock_control(engine: Engine, clock: VirtualClock) -> None:
    start = _call(engine, "GET", "/__mock/clock").json_body()["now"]
    moved = _call(engine, "POST", "/__mock/clock/advance", {"seconds": 150}).json_body()
    assert moved["now"] == start + 150
    assert (
        _call(engine, "POST", "/__mock/clock/set", {"time": start + 1000}).json_body()["now"]
        == start + 1000
    )
    bodies: list[Any] = [{"seconds": -1}, {"seconds": "x"}, {}, [], b"{", {"seconds": True}]
    for body in bodies:
        path = "/__mock/clock/advance"
        assert _call(engine, "POST", path, body).status == 400
    assert _call(engine, "POST", "/__mock/clock/set", {"time": 0}).status == 400


def test_real_clock_can_be_advanced_too(contract: Contract) -> None:
    engine = Engine(contract=contract, config=MockConfig.defaults())
    before = engine.clock.now()
    after = _call(engine, "POST", "/__mock/clock/advance", {"seconds": 3600}).json_body()["now"]
    assert after >= before + 3600


def test_scenarios_list_and_load_at_run_time(engine: Engine) -> None:
    listing = _call(engine, "GET", "/__mock/scenarios").json_body()
    names = [s["name"] for s in listing["scenarios"]]
    assert "fail-content_policy_violation" in names
    assert "create-insufficient_quota" in names
    yaml_text = b"scenarios:\n  - name: broke\n    match: {token: sk-broke-01}\n    create: {response: {status: 402}}\n"
    loaded = _call(
        engine, "PUT", "/__mock/scenarios", yaml_text, headers={"content-type": "application/yaml"}
    )
    assert loaded.json_body() == {"loaded": ["broke"], "count": 1}
    assert create(engine, token="sk-broke-01").status == 402
    added = _call(engine, "POST", "/__mock/scenarios", {"scenarios": [{"name": "other"}]})
    assert added.status == 200
    assert [s["name"] for s in _call(engine, "GET", "/__mock/scenarios").json_body()["scenarios"]][
        :2
    ] == ["other", "broke"]
    _call(engine, "PUT", "/__mock/scenarios", {"scenarios": []})
    assert create(engine, token="sk-broke-01").status == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"scenarios:\n  - name: x\n    create: {response: {status: 999}}\n", "<request body>:3:"),
        (b"scenarios: [", "invalid YAML"),
        (b"tokens: {}\n", "only 'scenarios'"),
        (b"\xff\xfe", "UTF-8"),
        (b"scenarios:\n  - name: x\n    match: {token: {regex: '['}}\n", "invalid regex"),
    ],
)
def test_bad_scenario_uploads_are_refused_and_nothing_changes(
    engine: Engine, body: bytes, fragment: str
) -> None:
    before = engine.scenario_names()
    response = _call(engine, "PUT", "/__mock/scenarios", body)
    assert response.status == 400
    assert fragment in response.json_body()["error"]["message"]
    assert engine.scenario_names() == before


def test_journal(engine: Engine) -> None:
    create(engine)
    engine.handle(create_request({"model": "nope"}))
    journal = _call(engine, "GET", "/__mock/journal").json_body()
    api_entries = [e for e in journal["entries"] if e["operation"] == "createCharacterGeneration"]
    assert [e["status"] for e in api_entries] == [200, 400]
    assert api_entries[1]["violations"]
    assert TOKEN not in json.dumps(journal)
    since = api_entries[0]["seq"]
    later = _call(engine, "GET", "/__mock/journal", query=f"since={since}&limit=1").json_body()
    assert [e["seq"] for e in later["entries"]] == [since + 1]
    assert _call(engine, "GET", "/__mock/journal", query="since=abc").status == 400


def test_admin_refuses_remote_clients_without_the_token(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"admin": {"token": "admin-secret-1"}})
    engine = Engine(config=config, clock=clock)
    refused = _call(engine, "GET", "/__mock/tasks", client="192.0.2.7")
    assert refused.status == 403
    assert refused.json_body()["error"]["code"] == "admin_forbidden"
    wrong = _call(
        engine, "GET", "/__mock/tasks", client="192.0.2.7", headers={"x-sora-admin-token": "nope"}
    )
    assert wrong.status == 403
    allowed = _call(
        engine,
        "GET",
        "/__mock/tasks",
        client="192.0.2.7",
        headers={"x-sora-admin-token": "admin-secret-1"},
    )
    assert allowed.status == 200
    assert _call(engine, "GET", "/__mock/tasks", client="::1").status == 200
    assert _call(engine, "GET", "/__mock/health", client="192.0.2.7").status == 200


def test_admin_refuses_remote_clients_when_no_token_is_configured(engine: Engine) -> None:
    assert _call(engine, "POST", "/__mock/reset", client="10.0.0.5").status == 403
    assert _call(engine, "GET", "/__mock/journal", client="not-an-ip").status == 403


def test_unknown_admin_routes(engine: Engine) -> None:
    assert _call(engine, "GET", "/__mock/nothing").status == 404
    assert _call(engine, "GET", "/__mock/clock/backwards").status == 404
    assert _call(engine, "DELETE", "/__mock/scenarios").status == 405
