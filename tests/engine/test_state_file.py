"""The optional SQLite state file: restarts keep tasks, kills lose none, workers share them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sora_mock.contract import Request
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.store.sqlite import SqliteTaskStore
from tests.helpers import (
    CREATE_PATH,
    TOKEN,
    VALID_BODY,
    a_task,
    auth,
    create,
    create_request,
    poll,
    start_serve,
)


def _engine(path: Path, clock: VirtualClock) -> Engine:
    return Engine(clock=clock, seed=3, store=SqliteTaskStore(path))


def test_tasks_survive_a_new_engine_on_the_same_file(tmp_path: Path, clock: VirtualClock) -> None:
    state = tmp_path / "state.db"
    first = _engine(state, clock)
    ids = [create(first).json_body()["id"] for _ in range(3)]
    failed = first.handle(
        create_request(headers={**auth(), "prefer": "scenario=fail-service_error"})
    ).json_body()["id"]
    clock.advance(10)
    assert poll(first, ids[0]).json_body()["status"] == "processing"

    second = _engine(state, clock)
    assert len(second.store) == 4
    clock.advance(200)
    for task_id in ids:
        assert poll(second, task_id).json_body()["status"] == "completed"
    assert poll(second, failed).json_body()["error"]["code"] == "service_error"
    assert poll(second, ids[0], token="sk-someone-else-1").status == 403
    assert second.store.get(ids[0]).polls == 2  # type: ignore[union-attr]


def test_poll_driven_state_and_expiry_persist(tmp_path: Path, clock: VirtualClock) -> None:
    state = tmp_path / "state.db"
    engine = _engine(state, clock)
    task_id = engine.handle(
        create_request(headers={**auth(), "prefer": "scenario=poll-driven"})
    ).json_body()["id"]
    seen = [poll(engine, task_id).json_body()["status"] for _ in range(2)]
    restarted = _engine(state, clock)
    seen += [poll(restarted, task_id).json_body()["status"] for _ in range(3)]
    assert seen == ["pending", "processing", "processing", "processing", "completed"]
    clock.advance(86401)
    assert poll(restarted, task_id).status == 404
    restarted.handle(create_request())
    assert task_id not in restarted.store


def _serve(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    return start_serve("--quiet", "--state", str(state), *extra)


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    process.communicate(timeout=20)  # also closes the pipes


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def test_an_abrupt_kill_loses_no_acknowledged_task(state: Path) -> None:
    process, url = _serve(state)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            ids = [
                client.post(CREATE_PATH, json=VALID_BODY, headers=auth("sk-durable-1")).json()["id"]
                for _ in range(20)
            ]
    finally:
        _stop(process, signal.SIGKILL)
    process, url = _serve(state)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for task_id in ids:
                assert (
                    client.get(f"/v1/tasks/{task_id}", headers=auth("sk-durable-1")).status_code
                    == 200
                )
    finally:
        _stop(process)


@pytest.mark.slow
def test_workers_share_one_state_file(state: Path) -> None:
    process, url = _serve(state, "--workers", "2")
    try:

        def create_then_poll(n: int) -> int:
            # A new connection per request, so both workers take part.
            headers = auth(f"sk-worker-{n:04d}")
            task_id = httpx.post(
                f"{url}{CREATE_PATH}", json=VALID_BODY, headers=headers, timeout=10
            ).json()["id"]
            return httpx.get(f"{url}/v1/tasks/{task_id}", headers=headers, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(create_then_poll, range(40)))
        assert statuses == [200] * 40
        assert httpx.get(f"{url}/__mock/health", timeout=10).json()["tasks"] == 40
    finally:
        _stop(process)


def test_workers_without_state_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sora_mock", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "sora-mock serve: error: --workers above 1 needs --state FILE, so that workers share tasks"
    )


def test_checkpoints_run_beside_the_requests_not_in_them(state: Path) -> None:
    """A commit never copies the log back into the file itself (that waits on the disk): the
    serving connection leaves it to a thread of the store's own, which does copy it back."""
    store = SqliteTaskStore(state)
    (pages,) = store._db.execute("PRAGMA wal_autocheckpoint").fetchone()
    assert pages >= 10_000  # only a backstop, should the thread fall far behind
    empty = state.stat().st_size
    for n in range(600):  # a few pages each: past the 1000 pages of SQLite's default
        assert store.add(a_task(id=f"task-unified-1-{n:08d}"))
    deadline = time.monotonic() + 10
    while state.stat().st_size == empty and time.monotonic() < deadline:
        pass
    assert state.stat().st_size > empty
    store.close()


def test_a_state_file_shows_and_journals_tasks_under_their_masked_token(
    tmp_path: Path, clock: VirtualClock
) -> None:
    body = {**VALID_BODY, "callback_url": "https://hooks.example.com/done"}
    seen: list[tuple[str, str | None, list[str]]] = []
    memory = Engine(clock=VirtualClock(), seed=3)
    for engine in (memory, _engine(tmp_path / "state.db", clock)):
        task_id = create(engine, body).json_body()["id"]
        assert isinstance(engine.clock, VirtualClock)
        engine.clock.advance(400)
        view = engine.handle(Request.build("GET", f"/__mock/tasks/{task_id}")).json_body()
        (delivery,) = engine.callbacks_due()
        engine.callback_done(delivery, 200, None)
        (callback,) = [e for e in engine.journal if e.operation == "callback"]
        query = f"token={TOKEN}&task_id={task_id}"
        found = engine.handle(Request.build("GET", "/__mock/journal", query=query))
        operations = [e["operation"] for e in found.json_body()["entries"]]
        seen.append((view["token"], callback.token, operations))
    assert seen[0] == seen[1]
    assert seen[1] == ("sk-t…89", "sk-t…89", ["createCharacterGeneration", "callback"])
