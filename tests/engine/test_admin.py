"""The admin API under /__mock/, checked against spec/mock-admin.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sora_mock.contract.messages import Request
from sora_mock.contract.openapi import Contract
from sora_mock.contract.resources import spec_paths
from sora_mock.engine.admin import admin_exposure_warning
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.errors import ConfigError
from tests.helpers import TOKEN, admin_call, auth, create, create_request, poll


def test_tasks_listing_and_detail(engine: Engine, clock: VirtualClock) -> None:
    task_id = create(engine).json_body()["id"]
    clock.advance(200)
    listing = admin_call(engine, "GET", "/__mock/tasks").json_body()
    assert listing["count"] == 1
    view = listing["tasks"][0]
    assert view["id"] == task_id
    assert view["status"] == "completed"
    assert TOKEN not in json.dumps(listing)
    detail = admin_call(engine, "GET", f"/__mock/tasks/{task_id}").json_body()
    assert detail["body"]["status"] == "completed"
    assert detail["polls"] == 0, "reading through the admin API is not a poll"
    assert (
        admin_call(engine, "GET", "/__mock/tasks", query="status=pending").json_body()["count"] == 0
    )
    assert admin_call(engine, "GET", "/__mock/tasks/task-unified-1-zzzzzzzz").status == 404


@pytest.mark.parametrize(
    ("scenario", "after", "polls", "outcome", "code"),
    [
        (None, (5.0, 150.0), (0, 0), "completed", None),
        ("never-finishes", (5.0, None), (0, 0), "completed", None),
        ("poll-driven", (0.0, 0.0), (1, 4), "completed", None),
        ("fail-service_error", (5.0, 150.0), (0, 0), "failed", "service_error"),
    ],
)
def test_a_task_view_shows_its_lifecycle(
    engine: Engine,
    clock: VirtualClock,
    scenario: str | None,
    after: tuple[float, float | None],
    polls: tuple[int, int],
    outcome: str,
    code: str | None,
) -> None:
    prefer = {"prefer": f"scenario={scenario}"} if scenario else {}
    task_id = engine.handle(create_request(headers={**auth(), **prefer})).json_body()["id"]
    created = clock.now()
    (listed,) = admin_call(engine, "GET", "/__mock/tasks").json_body()["tasks"]
    detail = admin_call(engine, "GET", f"/__mock/tasks/{task_id}").json_body()
    ends = after[1]
    assert (
        listed["lifecycle"]
        == detail["lifecycle"]
        == {
            "processing_at": created + after[0],
            "processing_after_polls": polls[0],
            "ends_at": None if ends is None else created + ends,
            "ends_after_polls": polls[1],
            "outcome": outcome,
            "failure_code": code,
        }
    )


def test_reset_forgets_everything(engine: Engine) -> None:
    task_id = create(engine).json_body()["id"]
    assert admin_call(engine, "POST", "/__mock/reset").json_body() == {"reset": True}
    assert len(engine.store) == 0
    assert poll(engine, task_id).status == 404
    assert admin_call(engine, "GET", "/__mock/reset").status == 405


def test_clock_control(engine: Engine, clock: VirtualClock) -> None:
    start = admin_call(engine, "GET", "/__mock/clock").json_body()["now"]
    moved = admin_call(engine, "POST", "/__mock/clock/advance", {"seconds": 150}).json_body()
    assert moved["now"] == start + 150
    assert (
        admin_call(engine, "POST", "/__mock/clock/set", {"time": start + 1000}).json_body()["now"]
        == start + 1000
    )
    bodies: list[Any] = [{"seconds": -1}, {"seconds": "x"}, {}, [], b"{", {"seconds": True}]
    for body in bodies:
        path = "/__mock/clock/advance"
        assert admin_call(engine, "POST", path, body).status == 400
    assert admin_call(engine, "POST", "/__mock/clock/set", {"time": 0}).status == 400


def test_real_clock_can_be_advanced_too(contract: Contract) -> None:
    engine = Engine(contract=contract, config=MockConfig.defaults())
    before = engine.clock.now()
    after = admin_call(engine, "POST", "/__mock/clock/advance", {"seconds": 3600}).json_body()[
        "now"
    ]
    assert after >= before + 3600


def test_scenarios_list_and_load_at_run_time(engine: Engine) -> None:
    listing = admin_call(engine, "GET", "/__mock/scenarios").json_body()
    names = [s["name"] for s in listing["scenarios"]]
    assert "fail-content_policy_violation" in names
    assert "create-insufficient_quota" in names
    yaml_text = b"scenarios:\n  - name: broke\n    match: {token: sk-broke-01}\n    create: {response: {status: 402}}\n"
    loaded = admin_call(
        engine, "PUT", "/__mock/scenarios", yaml_text, headers={"content-type": "application/yaml"}
    )
    assert loaded.json_body() == {"loaded": ["broke"], "count": 1}
    assert create(engine, token="sk-broke-01").status == 402
    added = admin_call(engine, "POST", "/__mock/scenarios", {"scenarios": [{"name": "other"}]})
    assert added.status == 200
    assert [
        s["name"] for s in admin_call(engine, "GET", "/__mock/scenarios").json_body()["scenarios"]
    ][:2] == ["other", "broke"]
    admin_call(engine, "PUT", "/__mock/scenarios", {"scenarios": []})
    assert create(engine, token="sk-broke-01").status == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"scenarios:\n  - name: x\n    create: {response: {status: 999}}\n", "<request body>:3:"),
        (b"scenarios: [", "invalid YAML"),
        (b"tokens: {}\n", "only 'scenarios'"),
        (b"\xff\xfe", "UTF-8"),
        (b"scenarios:\n  - name: x\n    match: {token: {regex: '['}}\n", "invalid regex"),
        (b'{"scenarios": [{"name": "x", "description": "\\ud800"}]}', "invalid YAML"),
        (b'scenarios:\n  - name: x\n    description: "\\U0000DFFF"\n', "invalid YAML"),
    ],
)
def test_bad_scenario_uploads_are_refused_and_nothing_changes(
    engine: Engine, body: bytes, fragment: str
) -> None:
    before = engine.scenario_names()
    response = admin_call(engine, "PUT", "/__mock/scenarios", body)
    assert response.status == 400
    assert fragment in response.json_body()["error"]["message"]
    assert engine.scenario_names() == before


def test_journal(engine: Engine) -> None:
    create(engine)
    engine.handle(create_request({"model": "nope"}))
    journal = admin_call(engine, "GET", "/__mock/journal").json_body()
    api_entries = [e for e in journal["entries"] if e["operation"] == "createCharacterGeneration"]
    assert [e["status"] for e in api_entries] == [200, 400]
    assert api_entries[1]["violations"]
    assert TOKEN not in json.dumps(journal)
    since = api_entries[0]["seq"]
    later = admin_call(engine, "GET", "/__mock/journal", query=f"since={since}&limit=1").json_body()
    assert [e["seq"] for e in later["entries"]] == [since + 1]
    assert admin_call(engine, "GET", "/__mock/journal", query="since=abc").status == 400


def test_admin_refuses_remote_clients_without_the_token(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"admin": {"token": "admin-secret-1"}})
    engine = Engine(config=config, clock=clock)
    refused = admin_call(engine, "GET", "/__mock/tasks", client="192.0.2.7")
    assert refused.status == 403
    assert refused.json_body()["error"]["code"] == "admin_forbidden"
    wrong = admin_call(
        engine, "GET", "/__mock/tasks", client="192.0.2.7", headers={"x-sora-admin-token": "nope"}
    )
    assert wrong.status == 403
    allowed = admin_call(
        engine,
        "GET",
        "/__mock/tasks",
        client="192.0.2.7",
        headers={"x-sora-admin-token": "admin-secret-1"},
    )
    assert allowed.status == 200
    assert admin_call(engine, "GET", "/__mock/tasks", client="::1").status == 200
    assert admin_call(engine, "GET", "/__mock/health", client="192.0.2.7").status == 200


def test_admin_refuses_remote_clients_when_no_token_is_configured(engine: Engine) -> None:
    assert admin_call(engine, "POST", "/__mock/reset", client="10.0.0.5").status == 403
    assert admin_call(engine, "GET", "/__mock/journal", client="not-an-ip").status == 403


def test_unknown_admin_routes(engine: Engine) -> None:
    assert admin_call(engine, "GET", "/__mock/nothing").status == 404
    assert admin_call(engine, "GET", "/__mock/clock/backwards").status == 404
    assert admin_call(engine, "DELETE", "/__mock/scenarios").status == 405


# -- who may drive the admin API ------------------------------------------------------------

STATE_CHANGES = [
    ("POST", "/__mock/clock/advance", b'{"seconds": 3600}'),
    ("POST", "/__mock/reset", b""),
    ("PUT", "/__mock/scenarios", b'{"scenarios": [{"name": "planted"}]}'),
    ("POST", "/__mock/scenarios", b'{"scenarios": [{"name": "planted"}]}'),
]


def _unchanged(engine: Engine, clock: VirtualClock, task_id: str, start: float) -> None:
    assert clock.now() == start
    assert engine.store.get(task_id) is not None
    assert "planted" not in engine.scenario_names()


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGES)
@pytest.mark.parametrize(
    "headers",
    [
        {"host": "evil.example:8000"},  # DNS rebinding: a foreign name that resolves here
        {"host": "127.0.0.1.nip.io"},
        {"host": "localhost.evil.example"},
        {"origin": "https://evil.example"},
        {"origin": "http://localhost.evil.example:8000"},
        {"origin": "null"},  # a sandboxed frame or a file
        {"content-type": "text/plain"},
        {"content-type": "text/plain;charset=UTF-8"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
        {"content-type": ""},
        {"sec-fetch-site": "cross-site"},
    ],
)
def test_a_browser_cannot_change_the_mock(
    engine: Engine,
    clock: VirtualClock,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    task_id = create(engine).json_body()["id"]
    start = clock.now()
    sent = {"host": "127.0.0.1:8000", "content-type": "application/json", **headers}
    if not body and "content-type" in headers:
        body = b"x"  # a form or text body, which the route would not read anyway
    refused = admin_call(engine, method, path, body, headers=sent)
    assert refused.status == 403, refused.body
    assert refused.json_body()["error"]["code"] == "admin_forbidden"
    _unchanged(engine, clock, task_id, start)


@pytest.mark.parametrize("host", ["evil.example", "192.0.2.7:8000", "localhost.", "[::2]:1"])
@pytest.mark.parametrize("path", ["/__mock/journal", "/__mock/tasks", "/__mock/clock"])
def test_reads_addressed_to_a_foreign_host_are_refused(
    engine: Engine, host: str, path: str
) -> None:
    refused = admin_call(engine, "GET", path, headers={"host": host})
    assert refused.status == 403
    assert refused.json_body()["error"]["code"] == "admin_forbidden"


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8000", "127.0.0.1", "127.0.0.1:65535", "[::1]", "[::1]:8000"]
)
@pytest.mark.parametrize(
    "origin", [None, "http://localhost:3000", "https://127.0.0.1", "http://[::1]:8000"]
)
def test_loopback_names_and_origins_are_served(
    engine: Engine, clock: VirtualClock, host: str, origin: str | None
) -> None:
    headers = {"host": host} | ({"origin": origin} if origin else {})
    assert admin_call(engine, "GET", "/__mock/journal", headers=headers).status == 200
    moved = admin_call(engine, "POST", "/__mock/clock/advance", {"seconds": 1}, headers=headers)
    assert moved.status == 200
    yaml_text = b"scenarios:\n  - name: by-yaml\n"
    put = admin_call(
        engine,
        "PUT",
        "/__mock/scenarios",
        yaml_text,
        headers={**headers, "content-type": "application/yaml"},
    )
    assert put.status == 200
    bare = Request.build("POST", "/__mock/reset", headers=headers, client="127.0.0.1")
    assert engine.handle(bare).status == 200  # no body, no content type


@pytest.mark.parametrize(
    ("client", "host"),
    [
        ("::ffff:127.0.0.1", "[::ffff:127.0.0.1]:8000"),
        ("::ffff:127.0.0.1", "localhost:8000"),
        ("127.0.0.1", "[::ffff:127.0.0.1]"),
    ],
)
def test_an_ipv4_mapped_loopback_client_is_served(engine: Engine, client: str, host: str) -> None:
    headers = {"host": host, "origin": f"http://{host}"}
    assert (
        admin_call(engine, "GET", "/__mock/journal", client=client, headers=headers).status == 200
    )
    assert admin_call(engine, "POST", "/__mock/reset", client=client, headers=headers).status == 200


def test_the_admin_token_serves_a_remote_host(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"admin": {"token": "admin-secret-1"}})
    engine = Engine(config=config, clock=clock)
    remote = {"host": "mock.internal:8000", "x-sora-admin-token": "admin-secret-1"}
    assert (
        admin_call(engine, "GET", "/__mock/journal", client="192.0.2.7", headers=remote).status
        == 200
    )
    assert (
        admin_call(engine, "POST", "/__mock/reset", client="192.0.2.7", headers=remote).status
        == 200
    )
    foreign = {**remote, "origin": "https://evil.example"}
    assert (
        admin_call(engine, "POST", "/__mock/reset", client="192.0.2.7", headers=foreign).status
        == 403
    )
    texts = {**remote, "content-type": "text/plain"}
    assert (
        admin_call(
            engine, "POST", "/__mock/clock/advance", b'{"seconds":1}', "192.0.2.7", texts
        ).status
        == 403
    )
    no_token = {"host": "mock.internal:8000"}
    assert admin_call(engine, "GET", "/__mock/journal", headers=no_token).status == 403


def test_public_routes_answer_any_host(engine: Engine) -> None:
    headers = {"host": "evil.example", "origin": "https://evil.example"}
    assert admin_call(engine, "GET", "/__mock/health", headers=headers).status == 200
    assert admin_call(engine, "GET", "/__mock/spec", headers=headers).status == 200


def test_in_process_calls_have_no_browser_to_fear(engine: Engine) -> None:
    # The test itself is the client: any base URL's host, any body.
    request = Request.build(
        "POST", "/__mock/reset", headers={"host": "api.example.test"}, body=b"", client=None
    )
    assert engine.handle(request).status == 200


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False),
        ("::1", False),
        ("localhost", False),
        ("127.0.0.2", False),
        ("0.0.0.0", True),
        ("::", True),
        ("192.0.2.7", True),
        ("mock.internal", True),
        ("", True),
    ],
)
def test_a_non_loopback_bind_without_a_token_is_warned_of(host: str, warned: bool) -> None:
    warning = admin_exposure_warning(host, MockConfig.defaults())
    assert (warning is not None) == warned
    if warning is not None:
        assert "\n" not in warning
        assert "admin" in warning
        assert "loopback" in warning
    with_token = MockConfig.defaults().with_overrides({"admin": {"token": "admin-secret-1"}})
    assert admin_exposure_warning(host, with_token) is None


# -- scenarios loaded at run time ------------------------------------------------------------

ANY_TOKEN = '    match: {token: {glob: "*"}}\n'
ODD_SCENARIOS = {
    "cost not a number": ANY_TOKEN + "    task: {result: {credits_reserved: lots}}\n",
    "cost null": ANY_TOKEN + "    task: {result: {credits_reserved: null}}\n",
    "cost a boolean": ANY_TOKEN + "    task: {result: {credits_reserved: true}}\n",
    "unknown value": ANY_TOKEN + "    task: {result: {no_such_value: 1}}\n",
    "a value every task has": ANY_TOKEN + "    task: {result: {status: completed}}\n",
    "header name with a space": "    create: {response: {status: 400, headers: {'bad name': v}}}\n",
    "header value not ASCII": '    create: {response: {status: 400, headers: {x-a: "\\u2603"}}}\n',
    "header value with a line break": '    poll: {response: {status: 404, headers: {x-a: "a\\r\\nb"}}}\n',
    "framing header": "    create: {response: {status: 400, headers: {Content-Length: '3'}}}\n",
    "hop-by-hop header": "    create: {response: {status: 400, headers: {transfer-encoding: chunked}}}\n",
}


@pytest.mark.parametrize("odd", sorted(ODD_SCENARIOS))
def test_a_scenario_loaded_at_run_time_is_checked_as_a_file_is(
    engine: Engine, tmp_path: Path, odd: str
) -> None:
    _refused_as_a_file_is(engine, "scenarios:\n  - name: odd\n" + ODD_SCENARIOS[odd], tmp_path)
    assert "odd" not in engine.scenario_names()
    for token in (TOKEN, "sk-demo-no-credits"):  # a token with credits pays the cost
        assert create(engine, token=token).status in (200, 402)


def test_a_run_time_scenario_is_checked_against_the_contract_the_mock_serves(
    clock: VirtualClock, tmp_path: Path
) -> None:
    contract = Contract.load([spec_paths()[0]])  # sora-character alone: create has no 503
    engine = Engine(contract=contract, clock=clock)
    text = "scenarios:\n  - name: gateway\n    create: {response: {status: 503}}\n"
    _refused_as_a_file_is(engine, text, tmp_path)


def _refused_as_a_file_is(engine: Engine, text: str, tmp_path: Path) -> None:
    """PUT ``text`` as YAML scenarios: refused (400) with the message that loading it from a
    file against the engine's contract gives, the file named ``<request body>``."""
    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as from_file:
        MockConfig.load(path, contract=engine.contract)
    yaml = {"content-type": "application/yaml"}
    response = admin_call(engine, "PUT", "/__mock/scenarios", text.encode(), headers=yaml)
    assert response.status == 400
    message = response.json_body()["error"]["message"]
    assert message == str(from_file.value).replace(str(path), "<request body>")


def test_odd_but_valid_run_time_scenarios_never_make_a_500(
    engine: Engine, clock: VirtualClock
) -> None:
    # Token matches first: the body regex after them catches every other create.
    scenarios: list[dict[str, Any]] = [
        {
            "name": "cost-override",
            "match": {"token": "sk-demo-no-credits"},
            "task": {"result": {"credits_reserved": 0}},
        },
        {
            "name": "named",
            "match": {"token": {"exact": "sk-odd-0001"}},
            "task": {"result": {"character_name": "chr_Odd", "estimated_time": 1.5}},
        },
        {
            "name": "late-429",
            "match": {"operation": "poll"},
            "poll": {
                "response": {"status": 429, "retry_after": 0, "headers": {"X-Why": "burst"}},
                "times": 1,
            },
        },
        {
            "name": "fails",
            "match": {"token": "sk-odd-0002"},
            "task": {
                "outcome": "failed",
                "failure": {"code": "rate_limited", "progress": 99},
                "processing_polls": 0,
            },
        },
        {
            "name": "never",
            "match": {"token": "sk-odd-0003"},
            "task": {"processing_seconds": None, "progress_curve": [5]},
        },
        {"name": "half", "match": {"token": "sk-odd-0004"}, "create": {"fault": "malformed_body"}},
        {
            "name": "glob-header",
            "match": {"headers": {"X-Odd": {"glob": "*"}}},
            "create": {"latency": {"min": 2, "max": 1}},
        },
        {"name": "by-regex", "match": {"body": {"video_url": {"regex": "^https?://.*[.]mp4$"}}}},
    ]
    loaded = admin_call(engine, "PUT", "/__mock/scenarios", {"scenarios": scenarios})
    assert loaded.status == 200, loaded.body
    for token in (
        TOKEN,
        "sk-demo-no-credits",
        "sk-odd-0001",
        "sk-odd-0002",
        "sk-odd-0003",
        "sk-odd-0004",
    ):
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "x-odd": "1",
        }
        created = engine.handle(create_request(headers=headers))
        assert created.status in (200, 429), created.body
        if token == "sk-odd-0004":
            continue
        task_id = created.json_body()["id"]
        for _ in range(3):
            clock.advance(200)
            assert poll(engine, task_id, token=token).status in (200, 429)
    assert admin_call(engine, "GET", "/__mock/scenarios").status == 200
    assert admin_call(engine, "GET", "/__mock/tasks").status == 200


def test_reset_puts_back_the_scenarios_the_mock_started_with(
    clock: VirtualClock, tmp_path: Path
) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "scenarios:\n  - name: from-file\n    match: {token: sk-file-0001}\n    create: {response: {status: 402}}\n"
    )
    engine = Engine(config=MockConfig.load(path), clock=clock)
    planted = {
        "scenarios": [
            {
                "name": "planted",
                "match": {"token": {"glob": "*"}},
                "create": {"response": {"status": 500}},
            }
        ]
    }
    assert admin_call(engine, "PUT", "/__mock/scenarios", planted).status == 200
    assert create(engine).status == 500
    assert admin_call(engine, "POST", "/__mock/reset").status == 200
    names = [
        s["name"] for s in admin_call(engine, "GET", "/__mock/scenarios").json_body()["scenarios"]
    ]
    assert names[0] == "from-file"
    assert "planted" not in names
    assert create(engine).status == 200
    assert create(engine, token="sk-file-0001").status == 402
