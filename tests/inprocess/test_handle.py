"""The in-process handle: calls, tasks, the virtual clock, scenarios, reset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sora_mock.contract import Contract, Request
from sora_mock.engine import Engine, MockConfig, RealClock, VirtualClock
from sora_mock.errors import UsageError
from sora_mock.inprocess import (
    DEFAULT_BASE_URL,
    Call,
    MockAPI,
    add_listener,
    load_config,
    remove_listener,
)
from tests.helpers import admin_call, create_request, task_request

DEFAULT_EPOCH = VirtualClock().now()  # where a default mock's clock starts
FAILED = {"lifecycle": {"outcome": "failed", "failure": {"code": "service_error", "progress": 30}}}


def _create(api: MockAPI, **kwargs: object) -> str:
    response = api.handle(create_request(**kwargs))  # type: ignore[arg-type]
    assert response.status == 200, response.body
    task_id: str = response.json_body()["id"]
    return task_id


def test_calls_record_request_response_and_journal() -> None:
    api = MockAPI(seed=1)
    task_id = _create(api)
    api.advance(10)
    api.handle(task_request(task_id))
    api.handle(Request.build("GET", "/nowhere"))
    calls = api.calls
    tasks = Contract.bundled().tasks
    assert [c.operation for c in calls] == [
        tasks.create.operation_id,
        tasks.read.operation_id,
        None,
    ]
    assert [c.status for c in calls] == [200, 200, 404]
    assert [c.task_status for c in calls] == ["pending", "processing", None]
    assert calls[0].task_id == calls[1].task_id == task_id
    assert calls[1].time - calls[0].time == 10
    assert calls[0].entry is not None
    assert calls[0].entry.seq == 1
    assert len(calls.creates) == 1
    assert len(calls.polls) == 1
    assert calls.last.path == "/nowhere"
    assert len(calls.filter(status=404)) == 1
    assert isinstance(calls[:2], type(calls))
    assert len(calls[:2]) == 2
    assert "t=+10s GET /v1/tasks/" in repr(calls)


def test_run_until_idle_finishes_every_task_on_the_virtual_clock() -> None:
    api = MockAPI(seed=1)
    first = _create(api)
    api.advance(100)
    second = _create(api)
    assert {t.status for t in api.tasks} == {"processing", "pending"}
    now = api.run_until_idle()
    assert now == DEFAULT_EPOCH + 100 + 150  # the later task's end, not more
    assert [t.status for t in api.tasks] == ["completed", "completed"]
    assert [t.id for t in api.tasks] == [first, second]
    body = api.task(second).body
    # Links name the host the creating request used (tests.helpers sends 127.0.0.1:8000).
    assert body["result_data"]["profile_picture_url"].startswith("http://127.0.0.1:8000/__mock/")
    assert api.task(first).ends_at == DEFAULT_EPOCH + 150
    assert api.run_until_idle() == now  # idle already: time stays


def test_a_failed_task_shows_its_failure() -> None:
    api = MockAPI(seed=1, config=FAILED)
    task_id = _create(api)
    api.run_until_idle()
    state = api.task(task_id)
    assert (state.status, state.progress) == ("failed", 30)
    polled = api.handle(task_request(task_id))
    assert api.calls.last.failure_code == "service_error"
    assert polled.json_body()["error"]["code"] == "service_error"


def test_unknown_task_names_the_known_ones() -> None:
    api = MockAPI(seed=1)
    task_id = _create(api)
    with pytest.raises(KeyError, match=task_id):
        api.task("task-unified-1-nothere")


def test_reset_forgets_tasks_calls_and_scenario_but_keeps_time() -> None:
    api = MockAPI(seed=1, scenario="slow")
    first = _create(api)
    api.advance(30)
    api.reset()
    assert api.tasks == []
    assert len(api.calls) == 0
    assert api.scenario is None
    assert api.now == DEFAULT_EPOCH + 30
    # The seed starts over: the same ids come again (at the new time).
    again = _create(api)
    assert again.rsplit("-", 1)[1] == first.rsplit("-", 1)[1]


def test_scenario_is_sent_as_a_prefer_header_unless_the_client_chose() -> None:
    api = MockAPI(seed=1, scenario="slow")
    api.handle(create_request())
    assert api.calls.last.request.headers["prefer"] == "scenario=slow"
    assert api.calls.last.scenario == "slow"
    with api.use_scenario("instant"):
        api.handle(create_request(headers={"prefer": "respond-async", **_auth()}))
        assert api.calls.last.request.headers["prefer"] == "respond-async, scenario=instant"
        api.handle(create_request(headers={"prefer": "scenario=success", **_auth()}))
        assert api.calls.last.request.headers["prefer"] == "scenario=success"
    assert api.scenario == "slow"
    api.scenario = None
    api.handle(create_request())
    assert "prefer" not in api.calls.last.request.headers
    created = [c.task_id for c in api.calls]
    assert [api.task(str(t)).scenario for t in created] == ["slow", "instant", "success", None]
    api.assert_scenario_reached("instant")


def test_run_until_idle_leaves_tasks_that_wait_for_polls_or_never_end() -> None:
    api = MockAPI(seed=1)
    with api.use_scenario("never-finishes"):
        never = _create(api)
    with api.use_scenario("poll-driven"):
        driven = _create(api)
    timed = _create(api)
    assert api.run_until_idle() == DEFAULT_EPOCH + 150
    assert api.task(timed).status == "completed"
    assert api.task(never).status == "processing"
    assert api.task(never).ends_at == float("inf")
    assert api.task(driven).status == "pending"
    # Pending for 1 read, processing for 3, completed at the 5th.
    for _ in range(5):
        api.handle(task_request(driven))
    assert [c.task_status for c in api.calls.polls] == ["pending"] + ["processing"] * 3 + [
        "completed"
    ]
    assert api.task(driven).polls == 5


def test_a_task_waiting_for_reads_ends_at_its_read_here_as_in_the_admin_view() -> None:
    api = MockAPI(seed=1)
    with api.use_scenario("poll-driven"):
        driven = _create(api)
    shown = []
    for _ in range(5):  # pending for 1 read, processing for 3, completed at the 5th
        api.handle(task_request(driven))
        state = api.task(driven)
        (viewed,) = admin_call(api.engine, "GET", "/__mock/tasks").json_body()["tasks"]
        assert (state.status, state.progress) == (viewed["status"], viewed["progress"])
        shown.append(state.status)
    assert shown == ["processing"] * 4 + ["completed"]  # never completed before its read
    assert api.calls.polls[-1].task_status == "completed"


def test_unknown_scenario_is_refused() -> None:
    api = MockAPI(seed=1)
    assert {"success", "slow", "fail-service_error"} <= set(api.scenarios)
    with pytest.raises(UsageError, match="unknown scenario 'no-such-scenario'; known: "):
        api.scenario = "no-such-scenario"
    with pytest.raises(UsageError):
        MockAPI(scenario="no-such-scenario")


class _FixedClock:
    def now(self) -> float:
        return 1000.0


def test_the_clock_must_move_forward_to_be_advanced() -> None:
    api = MockAPI(clock=_FixedClock())
    for step in (lambda: api.advance(1), api.run_until_idle, api.virtual_sleep):
        with pytest.raises(UsageError, match="needs a clock that can move forward"):
            step()
    with pytest.raises(ValueError, match="back"):
        MockAPI().advance(-1)
    real = MockAPI(clock=RealClock(10))
    before = real.now
    assert real.advance(100) >= before + 100  # a real clock skips ahead


def test_injectable_sleeps_advance_the_clock() -> None:
    import asyncio

    api = MockAPI()
    api.sleep(5)
    asyncio.run(api.async_sleep(7))
    assert api.now == DEFAULT_EPOCH + 12


def test_clock_arguments_and_load_config(tmp_path: Path) -> None:
    assert MockAPI(clock=100).now == 100.0
    assert isinstance(MockAPI(clock=None).clock, VirtualClock)
    real = RealClock()
    assert MockAPI(clock=real).clock is real
    for bad in (True, "soon"):
        with pytest.raises(UsageError):
            MockAPI(clock=bad)  # type: ignore[arg-type]
    path = tmp_path / "mock.yaml"
    path.write_text("task:\n  estimated_time: 99\n")
    assert load_config(path).task.values["estimated_time"] == 99
    assert (
        load_config(str(path), {"task": {"video_duration": 3}}).task.values["video_duration"] == 3
    )
    assert load_config({"task": {"estimated_time": 7}}).task.values["estimated_time"] == 7
    config = MockConfig.defaults()
    assert load_config(config) is config
    with pytest.raises(UsageError):
        load_config(42)  # type: ignore[arg-type]


def test_an_engine_can_be_given() -> None:
    engine = Engine(clock=VirtualClock(), seed=2)
    api = MockAPI(engine=engine)
    assert api.engine is engine
    assert api.contract is engine.contract
    assert api.journal is engine.journal


def test_errors_from_other_threads_are_raised_again() -> None:
    api = MockAPI()
    api.raise_errors()  # nothing kept: nothing raised
    api.errors.append(RuntimeError("boom in the server thread"))
    with pytest.raises(RuntimeError, match="boom"):
        api.raise_errors()
    api.raise_errors()


def test_default_base_url_is_the_spec_server() -> None:
    from sora_mock import pytest_plugin

    servers = Contract.bundled().document["servers"]
    assert servers[0]["url"] == DEFAULT_BASE_URL == pytest_plugin.DEFAULT_BASE_URL


def _auth() -> dict[str, str]:
    from tests.helpers import auth

    return auth()


class _Listener:
    def __init__(self) -> None:
        self.created: list[MockAPI] = []
        self.answered: list[tuple[MockAPI, int]] = []

    def mock_created(self, api: MockAPI) -> None:
        self.created.append(api)

    def call_answered(self, api: MockAPI, call: Call) -> None:
        self.answered.append((api, call.status))


def test_listeners_are_told_of_each_mock_and_call_until_removed() -> None:
    listener = _Listener()
    add_listener(listener)
    try:
        api = MockAPI(seed=1)
        api.handle(create_request())
        api.handle(task_request("task-unified-1-unknown1"))
    finally:
        remove_listener(listener)
    remove_listener(listener)  # a second removal changes nothing
    MockAPI().handle(create_request())
    assert listener.created == [api]
    assert listener.answered == [(api, 200), (api, 404)]


def test_adding_a_listener_loads_neither_the_engine_nor_httpx() -> None:
    code = (
        "import sys; from sora_mock.inprocess import add_listener; "
        "print(sorted({'httpx', 'respx', 'jsonschema_rs', 'yaml', 'sora_mock.engine'} "
        "& set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
