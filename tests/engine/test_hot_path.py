"""The engine's fast paths give exactly the answers of the straightforward code they skip."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sora_mock.contract.messages import Request, Response, json_bytes
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import TaskDefaults
from sora_mock.engine.core import (
    _ID_LETTERS,
    _NAME_LETTERS,
    IDENTITIES_PER_DRAW,
    TASK_ID_PREFIX,
    Engine,
)
from sora_mock.engine.inbound import _STRICT_DECODER, strict_json
from sora_mock.engine.lifecycle import Observation
from sora_mock.engine.rendering import render_task, task_json
from sora_mock.engine.scenarios.book import CREATE, OPERATION_IDS, POLL
from sora_mock.engine.store.task import Task
from tests.helpers import a_task, auth, create, create_request, poll, task_request

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _outcome(parse: Any, raw: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", parse(raw))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc).__name__, str(exc))


def _reference(raw: bytes) -> Any:
    return _STRICT_DECODER.decode(raw.decode("utf-8"))


@given(
    st.one_of(
        _json_values.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
        _json_values.map(lambda v: json.dumps(v, indent=1).encode()),
        st.binary(max_size=40),
        st.text(alphabet='{}[]",:0123456789.eE-+ \\nulltrfasNI\x00', max_size=30).map(str.encode),
    )
)
def test_strict_json_answers_as_the_reference_decoder(raw: bytes) -> None:
    assert _outcome(strict_json, raw) == _outcome(_reference, raw)


def test_strict_json_refuses_duplicate_keys_at_any_depth() -> None:
    # Repeats with equal values too: orjson keeps one of them, so its path must notice.
    for raw in (
        b'{"a":1,"a":2}',
        b'{"a":1,"a":1}',
        b'{"a" :1,"a":1}',
        b'{"x":{"a":1,"a":1}}',
        b'[{"a":1,"a":2}]',
        b'{"a":"' + b"x" * 2000 + b'","a":1}',
    ):
        assert _outcome(strict_json, raw) == _outcome(_reference, raw)
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


# Any text JSON can carry: lone surrogates cannot be written as UTF-8 by either path.
_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@given(
    task_id=_texts,
    model=_texts,
    created_at=st.floats(min_value=0, max_value=4e9),
    defaults=st.builds(
        TaskDefaults,
        estimated_time=st.integers(min_value=0, max_value=2**70),
        video_duration=st.integers(min_value=0, max_value=600),
        billing_rule=_texts,
        credits_reserved=st.floats(min_value=0, max_value=1e6),
        user_group=_texts,
    ),
    seen=st.builds(
        Observation,
        status=st.sampled_from(["pending", "processing", "completed", "failed"]),
        progress=st.integers(min_value=0, max_value=100),
    ),
)
@example(  # per-cent signs in every text: the template is a %-format
    task_id="task-%d-%s",
    model="50%",
    created_at=1767917446.9,
    defaults=TaskDefaults(billing_rule="%s", user_group="100%"),
    seen=Observation("processing", 42),
)
def test_task_json_writes_the_rendered_task(
    task_id: str,
    model: str,
    created_at: float,
    defaults: TaskDefaults,
    seen: Observation,
) -> None:
    task = a_task(id=task_id, created_at=created_at, model=model, defaults=defaults)
    body = task_json(task, seen, created_at + 200)
    assert body == json_bytes(render_task(task, seen, created_at + 200))
    assert json.loads(body) == render_task(task, seen, created_at + 200)


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


def _drawn_one_at_a_time(seed: int, count: int, now: float) -> list[tuple[str, str]]:
    # The plain code the batched draw skips: 16 random bytes per task, through the tables.
    rng = random.Random(seed)
    identities = []
    for _ in range(count):
        drawn = rng.getrandbits(128).to_bytes(16, "little")
        letters = drawn[:8].translate(_ID_LETTERS).decode()
        name = "chr_" + drawn[8:].translate(_NAME_LETTERS).decode()
        identities.append((f"{TASK_ID_PREFIX}{int(now)}-{letters}", name))
    return identities


def test_batched_identities_are_the_one_at_a_time_draws() -> None:
    # Across a refill, after a reset, and with the second changing in between.
    count = IDENTITIES_PER_DRAW + 5
    engine = Engine(clock=VirtualClock(), seed=11)
    assert [engine._new_identity(1000.5) for _ in range(count)] == _drawn_one_at_a_time(
        11, count, 1000.5
    )
    engine.reset()
    first = [engine._new_identity(1000.5) for _ in range(3)]
    later = [engine._new_identity(1001.0) for _ in range(3)]
    expected = _drawn_one_at_a_time(11, 6, 1000.5)
    assert first == expected[:3]
    assert later == [(i.replace("-1000-", "-1001-"), n) for i, n in expected[3:]]


def test_a_drawn_id_already_taken_is_skipped() -> None:
    # As after a restart on the same seed and state file: the store refuses the id.
    engine = Engine(clock=VirtualClock(), seed=3)
    now = engine.clock.now()
    (taken, _), (next_id, _) = _drawn_one_at_a_time(3, 2, now)
    assert engine.store.add(a_task(id=taken, created_at=now))
    created = create(engine).json_body()
    assert created["id"] == next_id
    assert poll(engine, next_id).json_body()["id"] == next_id
    assert engine.store.get(taken) == a_task(id=taken, created_at=now)


@pytest.mark.parametrize("now", [-1.5, -0.5, 0.0, 0.5])
def test_the_id_prefix_is_right_from_the_first_second_on(now: float) -> None:
    # Around zero and below (a virtual clock may start anywhere), the very first id too.
    engine = Engine(clock=VirtualClock(), seed=5)
    task_id, _ = engine._new_identity(now)
    assert task_id == _drawn_one_at_a_time(5, 1, now)[0][0]
    assert task_id.startswith(f"{TASK_ID_PREFIX}{int(now)}-")


@pytest.mark.parametrize("operation", [CREATE, POLL])
@pytest.mark.parametrize("body", [None, {"model": "sora-character", "video_url": "x"}])
def test_scenario_choice_skipped_only_where_it_finds_nothing(
    operation: str, body: dict[str, Any] | None
) -> None:
    # The engine does not call choose without Prefer, loaded scenarios or a task scenario:
    # there, choose itself (every built-in scenario in its book) finds nothing.
    engine = Engine(clock=VirtualClock(), seed=1)
    assert not engine.effects.book.loaded
    op = engine.contract.operation(OPERATION_IDS[operation])
    request = create_request() if operation == CREATE else task_request("task-unified-1-a")
    assert "prefer" not in request.headers
    task = a_task() if operation == POLL else None
    assert engine.effects.choose(op, operation, request, "sk-test", body, task) == (None, None)
