"""Scenarios over real HTTP: concurrency, faults seen by a real httpx client, callbacks."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import JournalEntry
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth

ROOT = Path(__file__).resolve().parents[2]


def _create(
    client: httpx.Client, scenario: str | None = None, token: str = "sk-http-0001"
) -> httpx.Response:
    headers = auth(token) | ({"prefer": f"scenario={scenario}"} if scenario else {})
    return client.post(CREATE_PATH, json=VALID_BODY, headers=headers)


def test_concurrent_tasks_under_different_scenarios(
    client: httpx.Client, clock: VirtualClock
) -> None:
    plans = [
        "success",
        "fail-service_error",
        "fail-content_policy_violation",
        "slow",
        "success",
        "fail-generation_timeout",
        "never-finishes",
        "fail-unknown_error",
    ] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda s: _create(client, s).json()["id"], plans))
    clock.advance(300)
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(
            pool.map(
                lambda t: client.get(f"/v1/tasks/{t}", headers=auth("sk-http-0001")).json(), created
            )
        )
    for scenario, body in zip(plans, bodies, strict=True):
        if scenario == "success":
            assert body["status"] == "completed"
        elif scenario.startswith("fail-"):
            assert body["error"]["code"] == scenario.removeprefix("fail-")
        else:
            assert body["status"] == "processing", scenario


def test_a_500_burst(client: httpx.Client) -> None:
    statuses = [_create(client, "flaky-create").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_dropped_connection_truncated_and_malformed_bodies(client: httpx.Client) -> None:
    task_id = _create(client).json()["id"]
    headers = auth("sk-http-0001")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/v1/tasks/{task_id}", headers=headers | {"prefer": "scenario=drop-connection"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/v1/tasks/{task_id}", headers=headers | {"prefer": "scenario=truncated-body"})
    malformed = client.get(
        f"/v1/tasks/{task_id}", headers=headers | {"prefer": "scenario=malformed-body"}
    )
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    wrong = client.get(
        f"/v1/tasks/{task_id}", headers=headers | {"prefer": "scenario=wrong-content-type"}
    )
    assert wrong.headers["content-type"].startswith("text/html")
    assert client.get(f"/v1/tasks/{task_id}", headers=headers).status_code == 200


@pytest.mark.slow
def test_latency_and_timeout(clock: VirtualClock, tmp_path: Path) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text(
        "scenarios:\n"
        "  - {name: laggy, match: {token: sk-laggy-1}, create: {latency: 0.3}}\n"
        "  - {name: hang, match: {token: sk-hang-01}, create: {fault: timeout, latency: 1.5}}\n"
    )
    engine = Engine(config=MockConfig.load(path), clock=clock)
    with (
        BackgroundServer(engine) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        started = time.perf_counter()
        assert _create(client, token="sk-laggy-1").status_code == 200
        assert time.perf_counter() - started >= 0.3
        with pytest.raises(httpx.ReadTimeout):
            client.post(CREATE_PATH, json=VALID_BODY, headers=auth("sk-hang-01"), timeout=0.3)
        assert _create(client, token="sk-other-01").status_code == 200


def test_the_readme_unhappy_paths_file(clock: VirtualClock) -> None:
    engine = Engine(
        config=MockConfig.load(ROOT / "examples/scenarios/unhappy-paths.yaml"), clock=clock
    )
    with (
        BackgroundServer(engine) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        nsfw = client.post(
            CREATE_PATH,
            json={**VALID_BODY, "video_url": "https://x.com/nsfw.mp4"},
            headers=auth("sk-busy-1"),
        )
        busy = client.get(f"/v1/tasks/{nsfw.json()['id']}", headers=auth("sk-busy-1"))
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "2"
        clock.advance(200)
        failed = client.get(f"/v1/tasks/{nsfw.json()['id']}", headers=auth("sk-busy-1")).json()
        assert failed["error"]["code"] == "content_policy_violation"
        assert failed["progress"] == 30
        assert (
            client.post(CREATE_PATH, json=VALID_BODY, headers=auth("sk-broke")).status_code == 402
        )


class _Receiver:
    """A loopback HTTP server that records callback POSTs and answers scripted statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict] = []  # type: ignore[type-arg]
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.arrived:
                    status = receiver.statuses[
                        min(len(receiver.received), len(receiver.statuses) - 1)
                    ]
                    receiver.received.append(json.loads(body))
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout=10), (
                self.received
            )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_callbacks_are_delivered_retried_and_recorded(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"callbacks": {"allow_loopback": True}})
    engine = Engine(config=config, clock=clock)
    receiver = _Receiver([500, 503, 200])
    try:
        with BackgroundServer(engine) as server, httpx.Client(base_url=server.base_url) as client:
            created = client.post(
                CREATE_PATH, json={**VALID_BODY, "callback_url": receiver.url}, headers=auth()
            )
            assert created.status_code == 200
            start = created.json()["created"]
            clock.advance(150)
            receiver.wait_for(1)
            assert receiver.received[0]["status"] == "completed"
            assert receiver.received[0]["id"] == created.json()["id"]
            assert len(receiver.received) == 1, "the retry waits for the mock clock"
            clock.advance(1)
            receiver.wait_for(2)
            clock.advance(2)
            receiver.wait_for(3)
            clock.advance(100)

            def callbacks(entries: list[JournalEntry]) -> list[JournalEntry]:
                return [e for e in entries if e.operation == "callback"]

            # The third attempt is recorded just after the receiver answers it.
            assert engine.journal.wait_for(lambda entries: len(callbacks(entries)) == 3)
            attempts = callbacks(list(engine.journal))
        assert [a.notes["attempt"] for a in attempts] == [1, 2, 3]
        assert [a.status for a in attempts] == [500, 503, 200]
        assert [round(a.time - start) for a in attempts] == [150, 151, 153]
        assert len(receiver.received) == 3
    finally:
        receiver.close()


def test_callbacks_give_up_after_three_retries(clock: VirtualClock) -> None:
    config = MockConfig.defaults().with_overrides({"callbacks": {"allow_loopback": True}})
    engine = Engine(config=config, clock=clock)
    receiver = _Receiver([500])
    try:
        with BackgroundServer(engine) as server, httpx.Client(base_url=server.base_url) as client:
            client.post(
                CREATE_PATH, json={**VALID_BODY, "callback_url": receiver.url}, headers=auth()
            )
            for advance, count in ((150, 1), (1, 2), (2, 3), (4, 4)):
                clock.advance(advance)
                receiver.wait_for(count)
            clock.advance(1000)
            assert engine.callbacks_due() == []
        assert len(receiver.received) == 4
    finally:
        receiver.close()


def test_a_disallowed_callback_url_is_refused(client: httpx.Client) -> None:
    response = client.post(
        CREATE_PATH, json={**VALID_BODY, "callback_url": "http://127.0.0.1:9/x"}, headers=auth()
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "callback_url"
