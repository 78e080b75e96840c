"""In-process costs: the engine and an httpx door against fixed-response baselines, and a
whole create-to-completed lifecycle on a virtual clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import respx

from bench.bare_app import TASK_BODY
from bench.common import interleaved, log, ratio, summary_us
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


def engine_transport(engine: Engine) -> httpx.MockTransport:
    """An httpx transport that hands each request to ``engine`` (the in-process door)."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = engine.handle(
            Request.build(
                request.method,
                request.url.path,
                query=request.url.query.decode(),
                headers=request.headers.items(),
                body=request.read(),
                base_url=f"{request.url.scheme}://{request.url.netloc.decode()}",
            )
        )
        return httpx.Response(answer.status, headers=list(answer.headers), content=answer.body)

    return httpx.MockTransport(handle)


def respx_client() -> httpx.Client:
    """The baseline: an httpx client whose respx route answers one fixed task body."""
    router = respx.Router(base_url=BASE_URL, assert_all_called=False)
    router.post(CREATE_PATH).respond(200, content=TASK_BODY, content_type="application/json")
    router.get(path__startswith="/v1/tasks/").respond(
        200, content=TASK_BODY, content_type="application/json"
    )
    return httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(router.handler))


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
    mock = httpx.Client(base_url=BASE_URL, transport=engine_transport(engine))
    fixed = respx_client()

    def engine_post() -> Any:
        return json.loads(engine.handle(create).body)

    def engine_get(task_id: str) -> Any:
        return json.loads(
            engine.handle(Request.build("GET", f"/v1/tasks/{task_id}", headers=HEADERS)).body
        )

    def http_post() -> Any:
        return mock.post(CREATE_PATH, json=BODY, headers=HEADERS).json()

    def http_get(task_id: str) -> Any:
        return mock.get(f"/v1/tasks/{task_id}", headers=HEADERS).json()

    log("in-process: engine and httpx door against fixed responses")
    calls = interleaved(
        {
            "json_dumps_fixed_body": lambda: json.dumps(TASK),
            "engine_create": lambda: engine.handle(create),
            "respx_fixed_create": lambda: fixed.post(CREATE_PATH, json=BODY, headers=HEADERS),
            "httpx_door_create": lambda: mock.post(CREATE_PATH, json=BODY, headers=HEADERS),
        },
        calls=300,
        rounds=rounds,
    )

    def fixed_lifecycle() -> None:
        fixed.post(CREATE_PATH, json=BODY, headers=HEADERS).json()
        fixed.get("/v1/tasks/task-unified-1-abcdefgh", headers=HEADERS).json()

    log("in-process: create-to-completed lifecycles on the virtual clock")
    lifecycles = interleaved(
        {
            "lifecycle_engine": lambda: lifecycle(engine_post, engine_get, clock),
            "lifecycle_httpx_door": lambda: lifecycle(http_post, http_get, clock),
            "respx_fixed_create_and_get": fixed_lifecycle,
        },
        calls=100,
        rounds=rounds,
    )
    fixed.close()
    mock.close()
    result: dict[str, Any] = {name: summary_us(s) for name, s in {**calls, **lifecycles}.items()}

    def med(name: str) -> float:
        return float(result[name]["median_us"])

    result["ratios"] = {
        "engine_create_vs_json_dumps": ratio(med("engine_create"), med("json_dumps_fixed_body")),
        "httpx_door_vs_respx_route": ratio(med("httpx_door_create"), med("respx_fixed_create")),
        "lifecycle_httpx_door_vs_respx_create_and_get": ratio(
            med("lifecycle_httpx_door"), med("respx_fixed_create_and_get")
        ),
    }
    result["targets"] = {
        "httpx_door_vs_respx_route_at_most_1_3": (
            result["ratios"]["httpx_door_vs_respx_route"] <= 1.3
        ),
        "lifecycle_httpx_door_under_2ms": med("lifecycle_httpx_door") < 2000,
        "lifecycle_engine_under_2ms": med("lifecycle_engine") < 2000,
    }
    return result
