"""Scenarios in the engine: built-ins through Prefer and through files, precedence, bursts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sora_mock.contract.messages import Request, Response
from sora_mock.contract.openapi import Contract
from sora_mock.contract.validation import validate_response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.engine.scenarios.book import builtin_scenarios
from sora_mock.errors import ConfigError
from tests.helpers import (
    TOKEN,
    VALID_BODY,
    auth,
    create,
    create_request,
    error_of,
    poll,
    task_request,
)

CONTRACT = Contract.bundled()
ERROR_SCENARIOS = [
    f"{prefix}-{error.code}"
    for prefix, operation_id in (("create", "createCharacterGeneration"), ("poll", "getTaskDetail"))
    for error in CONTRACT.operation(operation_id).errors.values()
]
FAILURE_CODES = CONTRACT.enum("TaskFailureCode")


def _prefer(request: Request, value: str) -> Request:
    return Request.build(
        request.method,
        request.path,
        headers={**request.headers, "prefer": value},
        body=request.body,
    )


def _engine_with(clock: VirtualClock, text: str, tmp_path: Path) -> Engine:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    return Engine(config=MockConfig.load(path), clock=clock, seed=1)


def _run_to_end(engine: Engine, clock: VirtualClock, task_id: str, token: str = TOKEN) -> Response:
    for _ in range(100):
        clock.advance(10)
        response = poll(engine, task_id, token)
        if response.status != 200 or response.json_body()["status"] in ("completed", "failed"):
            return response
    raise AssertionError("task never ended")


def _expected(name: str) -> tuple[str, int]:
    operation, _, code = name.partition("-")
    op = CONTRACT.operation(
        "createCharacterGeneration" if operation == "create" else "getTaskDetail"
    )
    status = next(s for s, e in op.errors.items() if e.code == code)
    return operation, status


def test_the_library_covers_every_documented_error_and_failure_code() -> None:
    names = {s.name for s in builtin_scenarios(CONTRACT)}
    for operation_id, prefix in (
        ("createCharacterGeneration", "create"),
        ("getTaskDetail", "poll"),
    ):
        for error in CONTRACT.operation(operation_id).errors.values():
            assert f"{prefix}-{error.code}" in names
    for code in FAILURE_CODES:
        assert f"fail-{code}" in names


@pytest.mark.parametrize("name", ERROR_SCENARIOS)
def test_each_error_scenario_through_prefer(engine: Engine, name: str) -> None:
    operation, status = _expected(name)
    task_id = create(engine).json_body()["id"]
    base = create_request() if operation == "create" else task_request(task_id)
    request = _prefer(base, f"scenario={name}")
    response = engine.handle(request)
    assert response.status == status
    assert error_of(response)["code"] == name.partition("-")[2]
    validate_response(request, response, CONTRACT)
    if status == 429:
        assert response.header("retry-after") == "1"


@pytest.mark.parametrize("name", ERROR_SCENARIOS)
def test_each_error_scenario_through_a_file(clock: VirtualClock, tmp_path: Path, name: str) -> None:
    operation, status = _expected(name)
    text = (
        "scenarios:\n"
        f"  - name: mine\n    match: {{token: sk-unlucky-1}}\n"
        f"    {operation}: {{response: {{status: {status}}}}}\n"
    )
    engine = _engine_with(clock, text, tmp_path)
    task_id = create(engine, token="sk-unlucky-1").json_body().get("id", "task-unified-1-aaaaaaaa")
    request = (
        create_request(token="sk-unlucky-1")
        if operation == "create"
        else task_request(task_id, "sk-unlucky-1")
    )
    response = engine.handle(request)
    assert response.status == status
    validate_response(request, response, CONTRACT)
    assert engine.handle(create_request(token="sk-lucky-123")).status == 200


@pytest.mark.parametrize("code", FAILURE_CODES)
def test_each_failure_scenario_fails_its_task(
    engine: Engine, clock: VirtualClock, code: str
) -> None:
    created = engine.handle(_prefer(create_request(), f"scenario=fail-{code}"))
    assert created.status == 200
    last = _run_to_end(engine, clock, created.json_body()["id"])
    validate_response(task_request(created.json_body()["id"]), last, CONTRACT)
    body = last.json_body()
    assert body["status"] == "failed"
    assert body["error"]["code"] == code
    assert body["error"]["type"] == "task_error"


def test_failure_scenario_through_a_file_by_body_glob(clock: VirtualClock, tmp_path: Path) -> None:
    engine = _engine_with(
        clock,
        "scenarios:\n  - name: nsfw\n    match: {body: {video_url: {glob: '*nsfw*'}}}\n"
        "    task: {outcome: failed, failure: {code: content_policy_violation, message: No.}}\n",
        tmp_path,
    )
    bad = create(engine, {**VALID_BODY, "video_url": "https://x.com/nsfw.mp4"}).json_body()["id"]
    good = create(engine).json_body()["id"]
    assert (
        _run_to_end(engine, clock, bad).json_body()["error"]["code"] == "content_policy_violation"
    )
    assert _run_to_end(engine, clock, good).json_body()["status"] == "completed"


def test_a_task_keeps_its_scenario_for_life(engine: Engine, clock: VirtualClock) -> None:
    task_id = engine.handle(_prefer(create_request(), "scenario=fail-service_error")).json_body()[
        "id"
    ]
    assert _run_to_end(engine, clock, task_id).json_body()["error"]["code"] == "service_error"
    assert [e.scenario for e in engine.journal][-1] == "fail-service_error"


def test_two_tasks_created_at_once_follow_their_own_scenarios(
    engine: Engine, clock: VirtualClock
) -> None:
    slow = engine.handle(_prefer(create_request(), "scenario=slow")).json_body()["id"]
    fails = engine.handle(
        _prefer(create_request(), "scenario=fail-generation_timeout")
    ).json_body()["id"]
    plain = create(engine).json_body()["id"]
    clock.advance(200)
    assert poll(engine, slow).json_body()["status"] == "processing"
    assert poll(engine, fails).json_body()["status"] == "failed"
    assert poll(engine, plain).json_body()["status"] == "completed"


def test_prefer_code_and_example(engine: Engine) -> None:
    assert engine.handle(_prefer(create_request(), "code=402")).status == 402
    limited = engine.handle(_prefer(create_request(), "code=429"))
    assert limited.status == 429
    assert limited.header("retry-after") == "1"
    assert engine.handle(_prefer(task_request("task-unified-1-abcdefgh"), "code=500")).status == 500
    example = engine.handle(_prefer(task_request("task-unified-1-abcdefgh"), "example=completed"))
    assert example.status == 200
    assert example.json_body()["status"] == "completed"
    assert engine.handle(_prefer(create_request(), "code=200")).status == 200


@pytest.mark.parametrize("prefer", ["code=418", "code=abc", "scenario=nope", "example=nope"])
def test_bad_prefer_values_are_explained(engine: Engine, prefer: str) -> None:
    request = _prefer(create_request(), prefer)
    response = engine.handle(request)
    assert response.status == 400
    assert "Prefer" in error_of(response)["message"]
    validate_response(request, response, CONTRACT)


def test_precedence_header_over_file_and_first_match_wins(
    clock: VirtualClock, tmp_path: Path
) -> None:
    engine = _engine_with(
        clock,
        "scenarios:\n"
        "  - {name: first, match: {token: {regex: '^sk-x'}}, create: {response: {status: 402}}}\n"
        "  - {name: second, match: {token: {glob: 'sk-*'}}, create: {response: {status: 403}}}\n",
        tmp_path,
    )
    assert create(engine, token="sk-x-123456").status == 402
    assert create(engine, token="sk-y-123456").status == 403
    assert (
        engine.handle(_prefer(create_request(token="sk-x-123456"), "scenario=success")).status
        == 200
    )
    assert engine.handle(_prefer(create_request(token="sk-x-123456"), "code=500")).status == 500


def test_header_matching(clock: VirtualClock, tmp_path: Path) -> None:
    engine = _engine_with(
        clock,
        "scenarios:\n  - {name: h, match: {headers: {X-Test-Case: quota}}, create: {response: {status: 402}}}\n",
        tmp_path,
    )
    headers = {**auth(), "x-test-case": "quota"}
    assert engine.handle(create_request(headers=headers)).status == 402
    assert create(engine).status == 200


def test_bursts_count_per_token(engine: Engine) -> None:
    def statuses(token: str) -> list[int]:
        request = _prefer(create_request(token=token), "scenario=flaky-create")
        return [engine.handle(request).status for _ in range(3)]

    assert statuses("sk-alice-0001") == [500, 500, 200]
    assert statuses("sk-bob-000001") == [500, 500, 200]


def test_poll_bursts_count_per_task(engine: Engine, clock: VirtualClock) -> None:
    ids = [
        engine.handle(_prefer(create_request(), "scenario=flaky-poll")).json_body()["id"]
        for _ in range(2)
    ]
    for task_id in ids:
        assert [poll(engine, task_id).status for _ in range(3)] == [500, 500, 200]


def test_poll_driven_lifecycle_ignores_the_clock(engine: Engine) -> None:
    task_id = engine.handle(_prefer(create_request(), "scenario=poll-driven")).json_body()["id"]
    seen = [poll(engine, task_id).json_body()["status"] for _ in range(6)]
    assert seen == ["pending", "processing", "processing", "processing", "completed", "completed"]


def test_result_overrides(clock: VirtualClock, tmp_path: Path) -> None:
    engine = _engine_with(
        clock,
        "scenarios:\n  - name: named\n    match: {token: sk-named-1}\n"
        "    task: {result: {character_name: chr_Fixed01, video_duration: 3, estimated_time: 7}}\n",
        tmp_path,
    )
    task_id = create(engine, token="sk-named-1").json_body()["id"]
    body = _run_to_end(engine, clock, task_id, "sk-named-1").json_body()
    assert body["result_data"]["character_name"] == "chr_Fixed01"
    assert body["task_info"]["video_duration"] == 3
    assert body["task_info"]["estimated_time"] == 7


def test_never_finishes_and_progress_curve(engine: Engine, clock: VirtualClock) -> None:
    stuck = engine.handle(_prefer(create_request(), "scenario=never-finishes")).json_body()["id"]
    jump = engine.handle(_prefer(create_request(), "scenario=progress-jump")).json_body()["id"]
    clock.advance(5)
    assert poll(engine, jump).json_body()["progress"] == 0
    clock.advance(80)
    assert poll(engine, jump).json_body()["progress"] == 90
    clock.advance(80_000)
    assert poll(engine, stuck).json_body()["status"] == "processing"


def test_engine_level_faults(engine: Engine) -> None:
    task_id = create(engine).json_body()["id"]
    malformed = engine.handle(_prefer(task_request(task_id), "scenario=malformed-body"))
    with pytest.raises(json.JSONDecodeError):
        malformed.json_body()
    wrong = engine.handle(_prefer(task_request(task_id), "scenario=wrong-content-type"))
    assert wrong.header("content-type") == "text/html; charset=utf-8"
    dropped = engine.handle(_prefer(task_request(task_id), "scenario=drop-connection"))
    assert dropped.fault == "drop_connection"
    slow = engine.handle(_prefer(task_request(task_id), "scenario=latency"))
    assert 0.2 <= slow.delay <= 0.5


def test_quota_n_plus_one_changes_nothing_else(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"tokens": {"sk-two-calls": {"credits": 0.2}}})
    engine = Engine(config=config, clock=clock)
    assert [create(engine, token="sk-two-calls").status for _ in range(2)] == [200, 200]
    balance = engine.accounts.balance("sk-two-calls", config.tokens["sk-two-calls"])
    refused = create(engine, token="sk-two-calls")
    assert refused.status == 402
    assert error_of(refused)["code"] == "insufficient_quota"
    assert len(engine.store) == 2
    assert engine.accounts.balance("sk-two-calls", config.tokens["sk-two-calls"]) == balance
    assert create(engine, token="sk-someone-else").status == 200


def test_rate_limit_window_recovers(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides(
        {"tokens": {"sk-limited-1": {"rate_limit": {"requests": 3, "window_seconds": 10}}}}
    )
    engine = Engine(config=config, clock=clock)
    statuses = [create(engine, token="sk-limited-1").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = create(engine, token="sk-limited-1")
    assert limited.header("retry-after") == "10"
    clock.advance(10)
    assert create(engine, token="sk-limited-1").status == 200


BROKEN_FILES = {
    "bad yaml": (
        "scenarios:\n  - name: a\n    create: {response: {status: 402}\n",
        ":4:",
        "invalid YAML",
    ),
    "unknown key": ("scenarios:\n  - name: a\n    creat: {}\n", ":3:", "did you mean 'create'"),
    "unknown status": (
        "scenarios:\n  - name: a\n    create:\n      response: {status: 418}\n",
        ":4:",
        "418",
    ),
    "a cost value that is not a number": (
        "task:\n  credits_reserved: lots\n",
        ":2:",
        "credits_reserved must be a number",
    ),
    "a value no model reports": (
        "task:\n  shoe_size: 42\n",
        ":2:",
        "'shoe_size' is not a value the spec's tasks report",
    ),
    "bad regex": (
        "scenarios:\n  - name: a\n    match:\n      token: {regex: '('}\n",
        ":4:",
        "invalid regex",
    ),
    "duplicate name": ("scenarios:\n  - name: a\n  - name: a\n", ":3:", "duplicate scenario name"),
    "decreasing curve": (
        "scenarios:\n  - name: a\n    task: {progress_curve: [50, 10]}\n",
        ":3:",
        "must not decrease",
    ),
    "bad failure code": (
        "scenarios:\n  - name: a\n    task:\n      failure: {code: oops}\n",
        ":4:",
        "oops",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_broken_scenario_files_name_the_line(tmp_path: Path, case: str) -> None:
    text, where, fragment = BROKEN_FILES[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        MockConfig.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}"), message
    assert fragment in message
    assert "\n" not in message


def test_a_status_the_operation_does_not_document_is_refused_with_its_place(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text("scenarios:\n  - name: teapot\n    create: {response: {status: 418}}\n")
    with pytest.raises(ConfigError) as caught:
        MockConfig.load(path)
    assert str(caught.value).startswith(f"{path}:3:"), caught.value
    assert "418 is not an error status the spec documents for create" in str(caught.value)


BUILTIN_NAMES = [s.name for s in builtin_scenarios(CONTRACT)]


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_each_builtin_behaves_the_same_through_a_file(
    clock: VirtualClock, tmp_path: Path, name: str
) -> None:
    """The same requests, once with ``Prefer: scenario=NAME``, once matched by a file rule."""
    file_engine = _engine_with(
        clock,
        f"scenarios:\n  - {{name: mine, extends: {name}, match: {{token: sk-file-01}}}}\n",
        tmp_path,
    )
    header_engine = Engine(clock=clock, seed=1)

    def run(
        engine: Engine, token: str, prefer: str | None
    ) -> list[tuple[int, bytes, float, str | None]]:
        extra = {"prefer": prefer} if prefer else {}
        created = engine.handle(create_request(headers={**auth(token), **extra}))
        outcomes = [created]
        task_id = (
            created.json_body().get("id") if created.status == 200 and not created.fault else None
        )
        for _ in range(4):
            clock.advance(60)
            outcomes.append(
                engine.handle(
                    Request.build(
                        "GET",
                        f"/v1/tasks/{task_id or 'task-unified-1-aaaaaaaa'}",
                        headers={**auth(token), **extra},
                    )
                )
            )
        return [
            (r.status, r.body.replace(token.encode(), b"T"), round(r.delay, 3) > 0, r.fault)
            for r in outcomes
        ]

    start = clock.now()
    via_header = run(header_engine, "sk-file-01", f"scenario={name}")
    clock.set(start + 10_000)
    via_file = run(file_engine, "sk-file-01", None)
    strip = [(s, d, f) for s, _, d, f in via_header]
    assert strip == [(s, d, f) for s, _, d, f in via_file]


def test_extends_unknown_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("scenarios:\n  - name: a\n    extends: nope\n")
    with pytest.raises(
        ConfigError, match=r"x.yaml:3:\d+: scenarios/0/extends: extends unknown scenario 'nope'"
    ):
        MockConfig.load(path)


def test_an_engine_refuses_config_values_that_would_break_every_create() -> None:
    config = MockConfig.defaults().with_overrides({"task": {"credits_reserved": "lots"}})
    with pytest.raises(ConfigError, match="credits_reserved must be a number"):
        Engine(config=config)
