"""What the engine's hot path keeps simple but exact: strict JSON, JSON writing, request ids
and the batched identity draw."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora_mock.contract.messages import Request, Response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.inbound import strict_json
from sora_mock.engine.lifecycle import Observation
from sora_mock.engine.scenarios.book import CREATE, POLL
from sora_mock.engine.store.task import Task
from tests.helpers import a_task, auth, create, create_request, poll, task_request

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _outcome(parse: Any, raw: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", parse(raw))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc).__name__, str(exc))


@given(
    st.one_of(
        _json_values.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
        _json_values.map(lambda v: json.dumps(v, indent=1).encode()),
    )
)
def test_strict_json_reads_back_what_was_written(raw: bytes) -> None:
    assert strict_json(raw) == json.loads(raw)


@given(st.binary(max_size=40))
def test_strict_json_refuses_anything_else_with_value_error(raw: bytes) -> None:
    outcome = _outcome(strict_json, raw)
    if outcome[0] == "ok":
        assert outcome[1] == json.loads(raw)


def test_strict_json_refuses_duplicate_keys_and_constants_at_any_depth() -> None:
    # Repeats with equal values too.
    for raw in (
        b'{"a":1,"a":2}',
        b'{"a":1,"a":1}',
        b'{"a" :1,"a":1}',
        b'{"x":{"a":1,"a":1}}',
        b'[{"a":1,"a":2}]',
        b'{"a":"' + b"x" * 2000 + b'","a":1}',
        b'{"a":NaN}',
        b"[Infinity]",
        b"-Infinity",
    ):
        assert _outcome(strict_json, raw)[0] == "error"


_finite_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(_finite_json_values | st.integers(min_value=2**64, max_value=2**80))
def test_response_bodies_read_back_as_the_data_given(value: Any) -> None:
    # orjson writes them, except what it refuses (integers past 64 bits).
    assert json.loads(Response.json(200, {"value": value}).body) == {"value": value}


def test_response_bodies_write_non_string_keys_as_strings() -> None:
    # orjson refuses them without an option that would slow every body; the fallback writes them.
    assert json.loads(Response.json(200, {1: "a", "b": {2.5: None}}).body) == {
        "1": "a",
        "b": {"2.5": None},
    }


class _OwnRendering(Engine):
    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        return {**super().render(task, seen, now), "extra": True}


@pytest.mark.parametrize("engine_class", [Engine, _OwnRendering])
def test_every_answer_carries_one_request_id_in_sequence(engine_class: type[Engine]) -> None:
    # Task answers are built with their id; every other answer gets it in handle. Either way
    # exactly one, numbered in order, and a finished task's kept body never repeats an old id.
    clock = VirtualClock()
    engine = engine_class(clock=clock, seed=1)
    created = create(engine)
    task_id = created.json_body()["id"]
    answers = [created, poll(engine, task_id)]
    clock.advance(1000)
    answers += [poll(engine, task_id), poll(engine, task_id)]  # finished: the kept body
    answers.append(poll(engine, task_id, token="sk-someone-else-0123"))  # 403
    answers.append(create(engine, body={"model": "sora-character"}))  # 400
    answers.append(engine.handle(Request.build("GET", "/__mock/health")))  # the mock's own
    flaky = Request.build(
        "GET", f"/v1/tasks/{task_id}", headers={**auth(), "prefer": "scenario=latency"}
    )
    answers.append(engine.handle(flaky))  # an effect delays the task answer
    retyped = Request.build(
        "GET", f"/v1/tasks/{task_id}", headers={**auth(), "prefer": "scenario=wrong-content-type"}
    )
    answers.append(engine.handle(retyped))  # an effect rewrites the task answer's headers
    assert [r.status for r in answers] == [200, 200, 200, 200, 403, 400, 200, 200, 200]
    for number, response in enumerate(answers, start=1):
        ids = [v for k, v in response.headers if k == "x-request-id"]
        assert ids == [f"req-{number:08d}"], (number, response.headers)
    assert answers[2].body == answers[3].body


def _ids(engine: Engine, count: int) -> list[str]:
    return [create(engine).json_body()["id"] for _ in range(count)]


def test_ids_and_names_follow_the_seed_and_start_over_at_reset() -> None:
    first, second = Engine(clock=VirtualClock(), seed=11), Engine(clock=VirtualClock(), seed=11)
    ids = _ids(first, 300)
    assert len(set(ids)) == len(ids)
    assert _ids(second, 300) == ids

    def names(engine: Engine) -> list[str]:
        return [
            engine.render(t, t.plan.final, 0.0)["result_data"]["character_name"]
            for t in engine.store
        ]

    assert names(second) == names(first)
    assert all(re.fullmatch(r"chr_[A-HJ-NP-Za-h]{8}", name) for name in names(first))
    first.reset()
    assert _ids(first, 3) == ids[:3]
    assert _ids(Engine(clock=VirtualClock(), seed=12), 3) != ids[:3]


def test_a_drawn_id_already_taken_is_skipped() -> None:
    # As after a restart on the same seed and state file: the store refuses the id.
    taken, next_id = _ids(Engine(clock=VirtualClock(), seed=3), 2)
    engine = Engine(clock=VirtualClock(), seed=3)
    now = engine.clock.now()
    assert engine.store.add(a_task(id=taken, created_at=now))
    created = create(engine).json_body()
    assert created["id"] == next_id
    assert poll(engine, next_id).json_body()["id"] == next_id
    assert engine.store.get(taken) == a_task(id=taken, created_at=now)


@pytest.mark.parametrize("now", [-1.5, -0.5, 0.0, 0.5])
def test_the_id_prefix_is_right_from_the_first_second_on(now: float) -> None:
    # Around zero and below (a virtual clock may start anywhere), the very first id too.
    engine = Engine(clock=VirtualClock(now), seed=5)
    (task_id,) = _ids(engine, 1)
    prefix = engine.tasks.id_prefix
    assert re.fullmatch(rf"{prefix}{int(now)}-[a-z0-5]{{8}}", task_id)


@pytest.mark.parametrize("operation", [CREATE, POLL])
@pytest.mark.parametrize("body", [None, {"model": "sora-character", "video_url": "x"}])
def test_scenario_choice_skipped_only_where_it_finds_nothing(
    operation: str, body: dict[str, Any] | None
) -> None:
    # The engine does not call choose without Prefer, loaded scenarios or a task scenario:
    # there, choose itself (every built-in scenario in its book) finds nothing.
    engine = Engine(clock=VirtualClock(), seed=1)
    assert not engine.effects.book.loaded
    op = engine.tasks.create if operation == CREATE else engine.tasks.read
    request = create_request() if operation == CREATE else task_request("task-unified-1-a")
    assert "prefer" not in request.headers
    task = a_task() if operation == POLL else None
    assert engine.effects.choose(op, operation, request, "sk-test", body, task) == (None, None)


def test_a_finished_task_reads_the_same_and_reset_forgets_its_body() -> None:
    engine = Engine(clock=VirtualClock(), seed=7)
    instant = {**auth(), "prefer": "scenario=instant"}

    def create_at(base_url: str) -> str:
        request = Request.build(
            "POST", "/v1/videos/generations", headers=instant, body=create_request().body
        )
        answer = engine.handle(dataclasses.replace(request, base_url=base_url))
        task_id: str = answer.json_body()["id"]
        return task_id

    task_id = create_at("http://first:1")
    first = poll(engine, task_id)
    assert first.json_body()["status"] == "completed"
    assert poll(engine, task_id).body == first.body
    engine.reset()
    assert create_at("http://second:2") == task_id  # the same seed and second, the same id
    url = poll(engine, task_id).json_body()["result_data"]["profile_picture_url"]
    assert url.startswith("http://second:2/")
