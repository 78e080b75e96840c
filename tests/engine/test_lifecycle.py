from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sora_mock.contract.validation import validate_response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.lifecycle import Failure, Lifecycle, observe
from tests.helpers import TOKEN, create, create_request, poll, task_request

ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


def _walk(engine: Engine, clock: VirtualClock, step: float, steps: int) -> list[dict]:  # type: ignore[type-arg]
    created = create(engine)
    assert created.status == 200
    task_id = created.json_body()["id"]
    seen = [created.json_body()]
    for _ in range(steps):
        clock.advance(step)
        request = task_request(task_id)
        response = engine.handle(request)
        validate_response(request, response)
        seen.append(response.json_body())
    return seen


def _assert_forward_only(seen: list[dict]) -> None:  # type: ignore[type-arg]
    for before, after in itertools.pairwise(seen):
        assert ORDER[after["status"]] >= ORDER[before["status"]]
        assert after["progress"] >= before["progress"]
        if before["status"] in ("completed", "failed"):
            assert after == before, "terminal states are final"
    for body in seen:
        assert ("result_data" in body) == (body["status"] == "completed")
        assert ("results" in body) == (body["status"] == "completed")
        assert ("error" in body) == (body["status"] == "failed")


def test_default_lifecycle_reaches_completed(engine: Engine, clock: VirtualClock) -> None:
    seen = _walk(engine, clock, step=10, steps=20)
    statuses = [body["status"] for body in seen]
    assert statuses[0] == "pending"
    assert "processing" in statuses
    assert statuses[-1] == "completed"
    _assert_forward_only(seen)
    done = seen[-1]
    assert done["progress"] == 100
    assert done["task_info"]["can_cancel"] is False
    assert done["result_data"]["character_name"].startswith("chr_")
    assert done["results"] == [done["result_data"]["profile_picture_url"]]


def test_progress_rises_while_processing(engine: Engine, clock: VirtualClock) -> None:
    seen = _walk(engine, clock, step=5, steps=31)
    progress = [b["progress"] for b in seen if b["status"] == "processing"]
    assert len(set(progress)) > 10
    assert max(progress) < 100


def test_a_configured_failure_ends_failed_with_its_code(clock: VirtualClock) -> None:
    config = Engine(clock=clock).config.with_overrides(
        {
            "lifecycle": {
                "outcome": "failed",
                "failure": {
                    "code": "content_policy_violation",
                    "message": "Content policy violation. photorealistic people detected",
                    "progress": 40,
                },
            }
        }
    )
    engine = Engine(config=config, clock=clock, seed=3)
    seen = _walk(engine, clock, step=10, steps=20)
    _assert_forward_only(seen)
    last = seen[-1]
    assert last["status"] == "failed"
    assert last["progress"] == 40
    assert last["error"] == {
        "code": "content_policy_violation",
        "message": "Content policy violation. photorealistic people detected",
        "type": "task_error",
    }
    assert last["task_info"]["can_cancel"] is False


@given(
    pending=st.floats(0, 100),
    processing=st.floats(0, 500),
    outcome=st.sampled_from(["completed", "failed"]),
    fail_at=st.integers(0, 99),
    times=st.lists(st.floats(0, 1000), min_size=2, max_size=20),
)
def test_observation_never_moves_backwards(
    pending: float, processing: float, outcome: str, fail_at: int, times: list[float]
) -> None:
    plan = Lifecycle(
        pending_seconds=pending,
        processing_seconds=processing,
        outcome=outcome,  # type: ignore[arg-type]
        failure=Failure("service_error", "x", fail_at),
    )
    seen = [observe(plan, 0.0, t) for t in sorted(times)]
    for before, after in itertools.pairwise(seen):
        assert ORDER[after.status] >= ORDER[before.status]
        assert after.progress >= before.progress
    for obs in seen:
        assert 0 <= obs.progress <= 100
        assert (obs.progress == 100) == (obs.status == "completed")


def test_profile_picture_is_served_until_it_expires(engine: Engine, clock: VirtualClock) -> None:
    task_id = create(engine).json_body()["id"]
    clock.advance(150)
    url = poll(engine, task_id).json_body()["result_data"]["profile_picture_url"]
    path, _, query = url.removeprefix("http://127.0.0.1:8000").partition("?")
    from sora_mock.contract.messages import Request

    picture = engine.handle(Request.build("GET", path, query=query))
    assert picture.status == 200
    assert picture.header("content-type") == "image/png"
    assert picture.body.startswith(b"\x89PNG\r\n\x1a\n")
    clock.advance(86400)
    expired = engine.handle(Request.build("GET", path, query=query))
    assert expired.status == 403
    assert b"Request has expired" in expired.body


def test_a_task_expires_after_its_retention(engine: Engine, clock: VirtualClock) -> None:
    task_id = create(engine).json_body()["id"]
    clock.advance(150 + 86400 - 1)
    assert poll(engine, task_id).status == 200
    clock.advance(2)
    gone = poll(engine, task_id)
    assert gone.status == 404
    assert len(engine.store) == 0


def test_same_seed_same_ids_and_names(clock: VirtualClock) -> None:
    def run() -> list[str]:
        engine = Engine(clock=VirtualClock(), seed=42)
        bodies = [engine.handle(create_request()).json_body() for _ in range(3)]
        return [b["id"] for b in bodies]

    assert run() == run()


def test_tasks_of_one_token_are_invisible_to_another(engine: Engine) -> None:
    mine = create(engine, token=TOKEN).json_body()["id"]
    theirs = poll(engine, mine, token="sk-someone-else-42")
    assert theirs.status == 403
    assert theirs.json_body()["error"]["code"] == "permission_denied"
    assert mine not in theirs.body.decode()
