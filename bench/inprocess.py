"""In-process costs: the engine, and ``sora_mock.mock()`` through each of its httpx doors
(the default, the transport patch, and respx) against a static respx route answering a fixed
body; a whole create-to-completed lifecycle on a virtual clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, cast

import httpx
import respx

import sora_mock
from bench.bare_app import TASK_BODY
from bench.common import interleaved, log, per_call_us, ratio, summary_us
from sora_mock.contract.messages import Request
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine

BASE_URL = "https://api.evolink.ai"
CREATE_PATH = "/v1/videos/generations"
TOKEN = "sk-bench-0123456789"
HEADERS = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
BODY = {
    "model": "sora-character",
    "video_url": "https://example.com/video.mp4",
    "timestamps": "1,3",
}
TASK = json.loads(TASK_BODY)


def respx_route() -> respx.MockRouter:
    """The baseline, as a test writes it: respx routes answering one fixed task body."""
    router = respx.mock(base_url=BASE_URL, assert_all_called=False)
    router.post(CREATE_PATH).respond(200, content=TASK_BODY, content_type="application/json")
    router.get(path__startswith="/v1/tasks/").respond(
        200, content=TASK_BODY, content_type="application/json"
    )
    return router


def in_turn(
    subjects: dict[str, tuple[AbstractContextManager[Any], Callable[[], object]]],
    *,
    calls: int,
    rounds: int,
) -> dict[str, list[float]]:
    """Per-call microseconds of each subject, one batch of ``calls`` each per round.

    Like :func:`~bench.common.interleaved`, for subjects that patch httpx: each batch runs
    inside its own context (entered and left outside the timing), so no two are active at
    once.
    """
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for warm_up in (True, *([False] * rounds)):
        for name, (context, fn) in subjects.items():
            with context:
                took = per_call_us(fn, max(1, calls // 10) if warm_up else calls)
            if not warm_up:
                samples[name].append(took)
    return samples


def lifecycle(post: Callable[[], Any], get: Callable[[str], Any], clock: VirtualClock) -> None:
    """Create a task, move the clock past its 150 s, poll it: it must be completed."""
    task_id = post()["id"]
    clock.advance(150)
    status = get(task_id)["status"]
    if status != "completed":
        raise AssertionError(f"task {task_id} is {status} after its whole lifecycle")


def measure(*, rounds: int = 9) -> dict[str, Any]:
    """Per-call costs and their ratios to the baselines."""
    clock = VirtualClock()
    engine = Engine(clock=clock, seed=1)
    create = Request.build("POST", CREATE_PATH, headers=HEADERS, body=json.dumps(BODY).encode())
    client = httpx.Client(base_url=BASE_URL)
    fixed = respx_route()
    doors = {via: sora_mock.mock(seed=1, via=via) for via in ("transport", "respx")}
    default = sora_mock.mock()

    def engine_post() -> Any:
        return json.loads(engine.handle(create).body)

    def engine_get(task_id: str) -> Any:
        return json.loads(
            engine.handle(Request.build("GET", f"/v1/tasks/{task_id}", headers=HEADERS)).body
        )

    def post() -> Any:
        return client.post(CREATE_PATH, json=BODY, headers=HEADERS).json()

    def get(task_id: str) -> Any:
        return client.get(f"/v1/tasks/{task_id}", headers=HEADERS).json()

    log("in-process: the engine against json.dumps")
    calls = interleaved(
        {
            "json_dumps_fixed_body": lambda: json.dumps(TASK),
            "engine_create": lambda: engine.handle(create),
        },
        calls=300,
        rounds=rounds,
    )
    log(f"in-process: both httpx doors (default: {default.via}) against a static respx route")
    calls |= in_turn(
        {
            "respx_fixed_create": (fixed, post),
            "transport_door_create": (doors["transport"], post),
            "respx_door_create": (doors["respx"], post),
        },
        calls=300,
        rounds=rounds,
    )

    def fixed_lifecycle() -> None:
        get(post()["id"])

    log("in-process: create-to-completed lifecycles on the virtual clock")
    door = doors[default.via]
    lifecycles = interleaved(
        {"lifecycle_engine": lambda: lifecycle(engine_post, engine_get, clock)},
        calls=100,
        rounds=rounds,
    ) | in_turn(
        {
            "lifecycle_default_door": (
                door,
                lambda: lifecycle(post, get, cast(VirtualClock, door.clock)),
            ),
            "respx_fixed_create_and_get": (fixed, fixed_lifecycle),
        },
        calls=100,
        rounds=rounds,
    )
    client.close()
    result: dict[str, Any] = {name: summary_us(s) for name, s in {**calls, **lifecycles}.items()}
    result["default_door"] = default.via

    def med(name: str) -> float:
        return float(result[name]["median_us"])

    result["ratios"] = {
        "engine_create_vs_json_dumps": ratio(med("engine_create"), med("json_dumps_fixed_body")),
        "transport_door_vs_respx_route": ratio(
            med("transport_door_create"), med("respx_fixed_create")
        ),
        "respx_door_vs_respx_route": ratio(med("respx_door_create"), med("respx_fixed_create")),
        "lifecycle_default_door_vs_respx_create_and_get": ratio(
            med("lifecycle_default_door"), med("respx_fixed_create_and_get")
        ),
    }
    result["targets"] = {
        "default_door_vs_respx_route_at_most_1_2": (
            result["ratios"][f"{default.via}_door_vs_respx_route"] <= 1.2
        ),
        "lifecycle_default_door_under_2ms": med("lifecycle_default_door") < 2000,
        "lifecycle_engine_under_2ms": med("lifecycle_engine") < 2000,
    }
    return result
