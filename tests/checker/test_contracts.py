"""The checker follows the contract it is given: every bundled model, and a made-up spec.

Each run checks an in-process mock on a virtual clock (the checker's waits move it), so a
whole lifecycle costs no real time.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from sora_mock.checker import Checker, CheckOptions, CheckResult, RequestCases, TaskShape
from sora_mock.checker.stateful import lifecycle_machine
from sora_mock.contract import Contract, RequestCheck, strategies
from sora_mock.engine import Engine, MockConfig, Observation, Task, VirtualClock
from sora_mock.inprocess import DEFAULT_BASE_URL, MockAPI
from tests.checker.test_stateful import FAST
from tests.made_up import (
    CREATE_PATH,
    MODEL,
    NAME_FIELD,
    RESULT_FIELDS,
    SPAN_FIELD,
    URL_FIELD,
    write_made_up_api,
)

OPTIONS = CheckOptions(
    token="sk-contracts-owner-1",
    other_token="sk-contracts-other-2",
    max_examples=10,
    seed=7,
    max_tasks=3,
    poll_interval=5,
    timeout=900,
)


@pytest.fixture(scope="module")
def made_up(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    return Contract.load([write_made_up_api(tmp_path_factory.mktemp("spec"))])


def check(api: MockAPI, contract: Contract | None = None) -> CheckResult:
    with httpx.Client(base_url=DEFAULT_BASE_URL, transport=api.transport()) as client:
        return Checker(client, OPTIONS, contract, sleep=api.sleep, clock=api.clock.now).run()


def failures(result: CheckResult) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in result.ledger.failures]


def unchecked(result: CheckResult) -> set[str]:
    """The rules the run never exercised."""
    return {rule for rule, count in result.ledger.checked.items() if count == 0}


def created_models(api: MockAPI) -> set[Any]:
    return {
        json.loads(call.response.body).get("model")
        for call in api.calls
        if call.method == "POST" and call.status == 200
    }


def refused_params(api: MockAPI) -> set[Any]:
    return {
        json.loads(call.response.body)["error"].get("param")
        for call in api.calls
        if call.method == "POST" and call.status == 400
    }


def test_the_checker_creates_and_polls_every_bundled_model() -> None:
    api = MockAPI(seed=3)
    result = check(api)
    assert result.ok, failures(result)
    assert unchecked(result) == {"retry_after"}  # nothing is rate limited
    assert created_models(api) == {"sora-character", "sora-2-preview"}
    assert [task["final"] for task in result.tasks] == ["completed"] * 3
    # Each model's own fields are probed with the error the contract prescribes.
    params = refused_params(api)
    assert {"model", "video_url", "timestamps", "prompt", "duration", "image_urls"} <= params


def simplest(strategy: st.SearchStrategy[Any]) -> Any:
    """The simplest example of ``strategy``: the one the checker sends first."""
    quick = settings(database=None, phases=[Phase.generate, Phase.shrink])
    return find(strategy, lambda _: True, settings=quick)


def test_the_bundled_cases_break_each_field_of_each_model() -> None:
    targets = {(t.kind, t.model, t.field) for t in strategies.invalid_create_targets()}
    assert {
        ("missing_field", "sora-character", "video_url"),
        ("missing_field", "sora-2-preview", "prompt"),
        ("unknown_model", "sora-character", "model"),
        ("span_violation", "sora-character", "timestamps"),
        ("enum_violation", "sora-2-preview", "duration"),
        ("bad_callback", "sora-2-preview", "callback_url"),
        ("malformed_json", None, None),
    } <= targets
    cases = RequestCases(Contract.bundled())
    # One group per target; the callback field's are left out for servers other than the mock.
    on_callbacks = sum(1 for target in targets if target[2] == "callback_url")
    groups = cases.invalid_groups(callbacks=True)
    assert len(groups) == len(targets)
    assert len(groups) - len(cases.invalid_groups(callbacks=False)) == on_callbacks > 0
    wide = simplest(strategies.invalid_create_requests(("span_violation",), field="timestamps"))
    assert (wide.status, wide.code, wide.param) == (400, "invalid_request", "timestamps")
    assert cases.invalid_label(wide) == "create invalid: span_violation (timestamps)"
    malformed = simplest(cases.id_groups()[0])
    assert (malformed.kind, malformed.status, malformed.code, malformed.param) == (
        "malformed",
        400,
        "invalid_task_id",
        "task_id",
    )
    assert re.fullmatch(r"task-unified-[0-9]+-[a-z0-9]{8}", simplest(cases.unknown_ids()))


def test_a_made_up_spec_is_checked_by_its_own_names(made_up: Contract) -> None:
    api = MockAPI(seed=3, spec=made_up)
    result = check(api, made_up)
    assert result.ok, failures(result)
    assert unchecked(result) == {"retry_after"}
    assert created_models(api) == {MODEL}
    assert {call.path for call in api.calls if call.method == "POST"} == {CREATE_PATH}
    assert all(re.fullmatch(r"job-[0-9]+-[a-z0-9]{8}", task["id"]) for task in result.tasks)
    assert [task["final"] for task in result.tasks] == ["completed"] * 3
    assert {"model", URL_FIELD, SPAN_FIELD} <= refused_params(api)
    completed = [
        json.loads(call.response.body)
        for call in api.calls
        if call.method == "GET" and call.status == 200 and b'"completed"' in call.response.body
    ]
    assert completed
    assert all(set(RESULT_FIELDS) <= set(body) for body in completed)
    assert all(
        re.fullmatch(r"lbl_[A-Za-z]{6}", body[RESULT_FIELDS[0]][NAME_FIELD]) for body in completed
    )


def test_the_rules_read_the_made_up_task_body(made_up: Contract) -> None:
    shape = TaskShape.of(made_up)
    assert shape.result_fields(MODEL) == RESULT_FIELDS
    assert shape.failure == ("error",)
    assert shape.id_text == "job-<created>-<8 of [a-z0-9]>"


class DropsTheResult(Engine):
    """The mock of a made-up spec whose completed tasks lack one of its result fields."""

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        body = super().render(task, seen, now)
        body.pop(RESULT_FIELDS[0], None)
        return body


def test_a_server_that_drops_a_made_up_result_field_is_reported(made_up: Contract) -> None:
    engine = DropsTheResult(made_up, MockConfig.defaults(), VirtualClock(), seed=3)
    api = MockAPI(engine=engine)
    result = check(api, made_up)
    broken = [f for f in result.ledger.failures if f.rule == "result_iff_completed"]
    assert broken, failures(result)
    assert broken[0].message == f"a completed task has no {RESULT_FIELDS[0]}"


def test_the_lifecycle_machine_follows_a_made_up_spec(made_up: Contract) -> None:
    machine = lifecycle_machine(contract=made_up)
    run_state_machine_as_test(machine, settings=settings(FAST, max_examples=10))


@settings(max_examples=20, deadline=None, database=None)
@given(data=st.data())
def test_the_cases_of_a_made_up_spec_agree_with_it(made_up: Contract, data: st.DataObject) -> None:
    cases = RequestCases(made_up)
    check = RequestCheck(made_up)
    body = data.draw(cases.valid())
    assert check.problem(body) is None
    case = data.draw(cases.invalid(callbacks=True))
    if case.param is not None:
        problem = check.problem(json.loads(case.body))
        assert problem is not None, case.text
        assert problem.param == case.param, case.text
