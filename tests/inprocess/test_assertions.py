"""The handle's assertion helpers: pass when they should, fail readably when not."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sora_mock.contract import Request
from sora_mock.errors import ContractViolation
from sora_mock.inprocess import Call, MockAPI
from tests.helpers import CREATE_PATH, VALID_BODY, auth, create_request, task_request


def _api_with_polls(gaps: list[float]) -> tuple[MockAPI, str]:
    api = MockAPI(seed=1)
    task_id = api.handle(create_request()).json_body()["id"]
    for gap in gaps:
        api.advance(gap)
        api.handle(task_request(task_id))
    return api, task_id


def test_valid_requests_pass() -> None:
    api, _ = _api_with_polls([5, 5])
    api.handle(Request.build("GET", "/__mock/health"))  # mock-only routes are not judged
    api.assert_all_requests_valid()


def test_invalid_requests_fail_naming_each_field() -> None:
    api = MockAPI(seed=1)
    api.handle(create_request({"model": "sora-character"}))
    api.handle(create_request({**VALID_BODY, "video_url": "https://e.com/v.avi"}))
    api.handle(create_request({**VALID_BODY, "timestamps": "0,5"}))
    api.handle(create_request(headers={"content-type": "application/json"}))
    api.handle(task_request("not-a-task"))
    api.handle(create_request())  # a valid one in between is not listed
    api.handle(Request.build("DELETE", "/v1/tasks/task-unified-1-abcdefgh", headers=auth()))
    with pytest.raises(ContractViolation) as caught:
        api.assert_all_requests_valid()
    message = str(caught.value)
    assert message.splitlines()[0] == ("6 of 7 requests break the contract (field: what is wrong)")
    assert (
        "request #1 (t=+0s POST /v1/videos/generations -> 400): body.video_url: "
        "expected a required field, got nothing (absent)"
    ) in message
    assert "video_url: video_url must point to a .mp4, .mov or .webm file" in message
    assert "timestamps: Invalid timestamps parameter: the span 5s exceeds 2 seconds" in message
    assert "request #4" in message
    assert "header.authorization: expected 'Bearer <token>', got no Authorization header" in message
    assert "task_id: 'not-a-task' does not start with 'task-unified-'" in message
    assert "request #6" not in message
    assert "request #7" in message
    assert "path: expected a documented operation, got DELETE /v1/tasks/" in message


def test_callback_rule_follows_the_mock_setting() -> None:
    body = {**VALID_BODY, "callback_url": "http://127.0.0.1:9/hook"}
    strict = MockAPI(seed=1)
    strict.handle(create_request(body))
    with pytest.raises(ContractViolation, match="callback_url: callback_url must use HTTPS"):
        strict.assert_all_requests_valid()
    lenient = MockAPI(seed=1, config={"callbacks": {"allow_loopback": True}})
    lenient.handle(create_request(body))
    lenient.assert_all_requests_valid()


def test_callback_ports_follow_the_mock_setting() -> None:
    body = {**VALID_BODY, "callback_url": "https://hooks.example.com:8443/hook"}
    strict = MockAPI(seed=1)
    strict.handle(create_request(body))
    with pytest.raises(ContractViolation, match="callback_url must use port 443"):
        strict.assert_all_requests_valid()
    allowed = MockAPI(seed=1, config={"callbacks": {"allow_ports": [8443]}})
    assert allowed.handle(create_request(body)).status == 200
    allowed.assert_all_requests_valid()


def test_poll_count() -> None:
    api, task_id = _api_with_polls([5, 5, 5])
    api.assert_polls(3)
    api.assert_polls(3, task_id=task_id)
    api.assert_polls(0, task_id="task-unified-1-otherone")
    with pytest.raises(ContractViolation) as caught:
        api.assert_polls(2)
    assert str(caught.value).splitlines() == [
        "expected 2 polls of tasks, saw 3",
        f"  - t=+5s GET /v1/tasks/{task_id} -> 200 processing",
        f"  - t=+10s GET /v1/tasks/{task_id} -> 200 processing",
        f"  - t=+15s GET /v1/tasks/{task_id} -> 200 processing",
    ]
    empty = MockAPI()
    with pytest.raises(ContractViolation, match=r"(?s)saw 0.*no polls at all"):
        empty.assert_polls(1, task_id="task-unified-1-abcdefgh")


def test_poll_interval_is_per_task() -> None:
    api, task_id = _api_with_polls([2, 1, 0.5, 3])
    api.assert_poll_interval(0.5)
    with pytest.raises(ContractViolation) as caught:
        api.assert_poll_interval(1)
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        "1 poll(s) came sooner than 1 s (mock time) after the previous poll of the same task"
    )
    assert lines[1] == (
        f"  - t=+3.5s GET /v1/tasks/{task_id} -> 200 pending: 0.5 s after the previous poll"
    )
    # A second task polled right after the first one's poll is not "too soon".
    other = api.handle(create_request()).json_body()["id"]
    api.handle(task_request(other))
    api.assert_poll_interval(0.5)
    api.assert_poll_interval(5, task_id=other)


def _with_scenario(call: Call, name: str) -> Call:
    assert call.entry is not None
    return dataclasses.replace(call, entry=dataclasses.replace(call.entry, scenario=name))


def test_scenario_reached() -> None:
    from sora_mock.inprocess import assertions

    api, _ = _api_with_polls([5])
    with pytest.raises(ContractViolation) as caught:
        api.assert_scenario_reached("quota-exhausted")
    lines = str(caught.value).splitlines()
    assert lines[:2] == [
        "scenario 'quota-exhausted' was never reached",
        "  - scenarios reached: none",
    ]
    assert lines[2].startswith("  - 'quota-exhausted' is not a scenario this mock knows: ")
    api.scenario = "flaky-poll"
    api.handle(task_request(api.tasks[0].id))
    api.assert_scenario_reached("flaky-poll")
    assert api.calls.last.status == 500
    # The journal carries the scenario once the engine has them (issue 3).
    calls = [_with_scenario(api.calls[0], "slow-task"), api.calls[1]]
    assertions.assert_scenario_reached(calls, "slow-task")
    with pytest.raises(ContractViolation, match="not a scenario this mock knows: a, b"):
        assertions.assert_scenario_reached(calls, "c", known=["b", "a"])


def test_violations_are_assertion_errors() -> None:
    api = MockAPI()
    api.handle(
        Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps({"model": 1}).encode())
    )
    with pytest.raises(AssertionError, match=r"body\.model: expected type string, got 1"):
        api.assert_all_requests_valid()
