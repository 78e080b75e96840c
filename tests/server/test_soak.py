"""Soak: many concurrent clients over real HTTP, every answer accounted for.

Bounded in count (12 clients, 8 tasks each, fixed poll rounds) and in time (a few
seconds), loopback only. The clock is virtual: clients work in phases separated by a
barrier, and the test moves time between phases, so the outcome does not depend on
thread scheduling while the requests themselves still race each other on the server.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY

CLIENTS = 12
TASKS_PER_CLIENT = 8
STEP_SECONDS = 25.0
ROUNDS = 7  # 7 x 25 s > the default 150 s lifecycle
STATUS_ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


@dataclass
class Client:
    """One simulated user: its token, its tasks, and everything it saw."""

    index: int
    base_url: str
    token: str = ""
    task_ids: list[str] = field(default_factory=list)
    seen: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    sent: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.token = f"sk-soak-client-{self.index:04d}"
        # Half the clients reuse one connection, half open a new one per request.
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=10,
            headers={"authorization": f"Bearer {self.token}"},
            limits=httpx.Limits(max_keepalive_connections=1 if self.index % 2 else 0),
        )

    def call(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.sent[kind] += 1
        response = self.http.request(method, path, **kwargs)
        if response.headers.get("content-type") != "application/json":
            self.problems.append(f"{kind}: content-type {response.headers.get('content-type')}")
        try:
            response.json()
        except json.JSONDecodeError:
            self.problems.append(f"{kind}: malformed body {response.content[:80]!r}")
        return response

    def create_all(self) -> None:
        for _ in range(TASKS_PER_CLIENT):
            response = self.call("create", "POST", CREATE_PATH, json=VALID_BODY)
            if response.status_code != 200:
                self.problems.append(f"create -> {response.status_code}: {response.text}")
                continue
            task = response.json()
            self.task_ids.append(task["id"])
            self.seen[task["id"]] = [(task["status"], task["progress"])]

    def poll_all(self, neighbour: Client) -> None:
        for task_id in self.task_ids:
            response = self.call("poll", "GET", f"/v1/tasks/{task_id}")
            body = response.json()
            if response.status_code != 200 or body.get("id") != task_id:
                self.problems.append(f"poll {task_id} -> {response.status_code}: {body}")
                continue
            self.seen[task_id].append((body["status"], body["progress"]))
        # Try a neighbour's task: it must never be shown to this token.
        if neighbour.task_ids:
            stolen = neighbour.task_ids[len(self.seen) % len(neighbour.task_ids)]
            response = self.call("cross", "GET", f"/v1/tasks/{stolen}")
            if response.status_code != 403 or stolen in response.text:
                self.problems.append(f"read {stolen} of another token -> {response.text}")


@pytest.fixture
def soak() -> Iterator[tuple[Engine, VirtualClock, BackgroundServer]]:
    clock = VirtualClock()
    engine = Engine(clock=clock, seed=11)
    with BackgroundServer(engine) as server:
        yield engine, clock, server


def _in_parallel(clients: list[Client], phase: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clients))

    def run(client: Client) -> None:
        try:
            barrier.wait(timeout=30)  # start together, so requests really race
            if phase == "create":
                client.create_all()
            else:
                client.poll_all(clients[(client.index + 1) % len(clients)])
        except BaseException as exc:  # reported below, with the client
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not errors, errors


def test_concurrent_clients_get_every_answer(
    soak: tuple[Engine, VirtualClock, BackgroundServer],
) -> None:
    engine, clock, server = soak
    clients = [Client(i, server.base_url) for i in range(CLIENTS)]
    try:
        _in_parallel(clients, "create")
        for _ in range(ROUNDS):
            clock.advance(STEP_SECONDS)
            _in_parallel(clients, "poll")
    finally:
        for client in clients:
            client.http.close()

    problems = [f"client {c.index}: {p}" for c in clients for p in c.problems]
    assert not problems, problems[:10]
    all_ids = [task_id for c in clients for task_id in c.task_ids]
    assert len(all_ids) == len(set(all_ids)) == CLIENTS * TASKS_PER_CLIENT
    for client in clients:
        for task_id, history in client.seen.items():
            assert history[-1] == ("completed", 100), (task_id, history)
            order = [(STATUS_ORDER[s], p) for s, p in history]
            assert order == sorted(order), (task_id, history)  # never backwards

    # The journal saw exactly what the clients sent, answered as they were told.
    sent = sum((c.sent for c in clients), Counter())
    entries = list(engine.journal)
    assert engine.journal.total == len(entries) == sum(sent.values())
    by_kind = Counter((e.operation, e.status) for e in entries)
    assert by_kind == {
        ("createCharacterGeneration", 200): sent["create"],
        ("getTaskDetail", 200): sent["poll"],
        ("getTaskDetail", 403): sent["cross"],
    }
    assert len(engine.store) == len(all_ids)
    owners = {task.id: task.token for task in engine.store}
    for client in clients:
        assert all(owners[task_id] == client.token for task_id in client.task_ids)
    assert all(client.token not in json.dumps(e.as_dict()) for e in entries for client in clients)
