"""The same requests, seed and scenario give byte-identical answers in-process and over HTTP.

The in-process side is ``sora_api``'s transport with the server's base URL, so that links
in bodies (which name the host the client used) are the same on both sides.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.inprocess.handle import MockAPI

CREATE = "/v1/videos/generations"
BODY = {"model": "sora-character", "video_url": "https://example.com/v.mp4", "timestamps": "1,3"}


def _builtin_scenarios() -> list[str]:
    names = getattr(Engine(clock=VirtualClock()), "scenario_names", None)
    return sorted(names()) if callable(names) else []


SCENARIOS = _builtin_scenarios()


def _auth(token: str = "sk-parity-0001") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _script(client: httpx.Client, api: MockAPI) -> list[tuple[Any, ...]]:
    """Every documented path a client can take, as (status, content-type, body) triples."""
    seen: list[tuple[Any, ...]] = []

    def send(method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # a scenario may drop the connection
            seen.append(("error", type(exc).__name__))
            return None
        seen.append((response.status_code, response.headers.get("content-type"), response.content))
        return response

    created = send("POST", CREATE, json=BODY, headers=_auth())
    task_id = _task_id(created)
    for body in (
        {"model": "sora-character"},
        {**BODY, "video_url": "https://example.com/v.avi"},
        {**BODY, "timestamps": "0,5"},
        {**BODY, "model": "sora-2"},
        [1, 2],
    ):
        send("POST", CREATE, json=body, headers=_auth())
    send("POST", CREATE, content=b"{not json", headers=_auth() | _json())
    send("POST", CREATE, content=json.dumps(BODY).encode(), headers=_auth())  # no content type
    send("POST", CREATE, content=b"x" * 1_048_577, headers=_auth() | _json())
    send("POST", CREATE, json=BODY)
    send("POST", CREATE, json=BODY, headers={"Authorization": "Basic abc"})
    for token in ("sk-demo-no-credits", "sk-demo-no-access", "sk-demo-broken"):
        send("POST", CREATE, json=BODY, headers=_auth(token))
    send("POST", CREATE, json=BODY, headers=_auth("sk-demo-rate-limited"))
    send("POST", CREATE, json=BODY, headers=_auth("sk-demo-rate-limited"))
    send("GET", "/v1/tasks/not-a-task", headers=_auth())
    send("GET", "/v1/tasks/task-unified-1-unknown1", headers=_auth())
    send("GET", "/v1/tasks/x", headers=_auth("sk-demo-overdrawn"))
    send("DELETE", "/v1/tasks/x", headers=_auth())
    send("GET", "/v2/nothing", headers=_auth())
    if task_id:
        send("GET", f"/v1/tasks/{task_id}", headers=_auth())
        send("GET", f"/v1/tasks/{task_id}", headers=_auth("sk-someone-else-01"))
        for step in (3, 60, 60):
            api.advance(step)
            send("GET", f"/v1/tasks/{task_id}", headers=_auth())
        api.run_until_idle()
        done = send("GET", f"/v1/tasks/{task_id}", headers=_auth())
        for url in (done.json() if done is not None else {}).get("results", []):
            send("GET", url.removeprefix(str(client.base_url).rstrip("/")))
        api.advance(86_400)
        send("GET", f"/v1/tasks/{task_id}", headers=_auth())
    send("GET", "/__mock/health")
    return seen


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _task_id(response: httpx.Response | None) -> str | None:
    if response is None or response.status_code != 200:
        return None
    task_id: str = response.json()["id"]
    return task_id


def _lifecycle(client: httpx.Client, api: MockAPI) -> list[tuple[Any, ...]]:
    """A create, then polls across the task's life: what a scenario changes."""
    seen: list[tuple[Any, ...]] = []

    def send(method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = client.request(method, path, headers=_auth(), **kwargs)
        except httpx.HTTPError as exc:
            seen.append(("error", type(exc).__name__))
            return None
        seen.append((response.status_code, response.headers.get("content-type"), response.content))
        return response

    task_id = _task_id(send("POST", CREATE, json=BODY))
    send("POST", CREATE, json=BODY)  # a second create: bursts count per token
    if task_id:
        for step in (0, 3, 60, 100):
            api.advance(step)
            send("GET", f"/v1/tasks/{task_id}")
        api.run_until_idle()
        send("GET", f"/v1/tasks/{task_id}")
    return seen


def _compare(
    sora_api: MockAPI, sora_server: MockAPI, script: Any = _script, timeout: float = 10
) -> None:
    with (
        httpx.Client(transport=sora_api.transport(), base_url=sora_server.base_url) as local,
        httpx.Client(base_url=sora_server.base_url, timeout=timeout) as remote,
    ):
        local.timeout = remote.timeout
        in_process = script(local, sora_api)
        over_http = script(remote, sora_server)
    assert len(in_process) == len(over_http) >= 2
    for index, (mine, theirs) in enumerate(zip(in_process, over_http, strict=True)):
        assert mine == theirs, f"answer #{index + 1} differs"


def test_same_bodies_through_sora_api_and_sora_server(
    sora_api: MockAPI, sora_server: MockAPI
) -> None:
    _compare(sora_api, sora_server)
    assert {c.status for c in sora_api.calls} >= {200, 400, 401, 402, 403, 404, 405, 413, 429}


def test_there_are_builtin_scenarios() -> None:
    assert len(SCENARIOS) > 40


#: Scenarios whose answers wait out a real delay over HTTP (seconds each).
WAITING = {"latency", "timeout"}


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(name, marks=pytest.mark.slow) if name in WAITING else name for name in SCENARIOS],
)
def test_every_builtin_scenario_is_the_same_through_both_doors(
    sora_api: MockAPI, sora_server: MockAPI, scenario: str
) -> None:
    sora_api.scenario = sora_server.scenario = scenario
    # A short client timeout that the ``timeout`` scenario (300 s) waits past, well clear of
    # the ``latency`` scenario's 0.5 s (at 0.5 the server's own time tipped it over, once).
    _compare(sora_api, sora_server, _lifecycle, timeout=1.5)
    sora_api.assert_scenario_reached(scenario)
    sora_server.assert_scenario_reached(scenario)
