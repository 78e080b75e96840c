"""Group commit on a state file: the answers of one pass of the server's event loop share
one commit, none is sent before it, a failed commit answers 503, and ``kill -9`` loses no
acknowledged task (one worker or two on the file)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from sora_mock.engine.clock import RealClock, VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import JournalEntry
from sora_mock.engine.store.sqlite import SqliteTaskStore
from sora_mock.server.callbacks import UNSAVED, CallbackDispatcher
from sora_mock.server.commits import GroupCommit
from sora_mock.server.envelopes import NOT_SAVED, protocol_error
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth, create, deny_commit, start_serve

REQUESTS = 50
TOKEN = "sk-group-commit-7d41e2"


async def _create_all(url: str, *, fresh: bool = False) -> list[httpx.Response]:
    """``REQUESTS`` creates sent at once (on new connections each when ``fresh``)."""
    limits = httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits()
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        sends = [
            client.post(CREATE_PATH, json=VALID_BODY, headers=auth(TOKEN)) for _ in range(REQUESTS)
        ]
        return list(await asyncio.gather(*sends))


def _acknowledged(responses: list[httpx.Response]) -> list[str]:
    """The ids of ``responses``, each of which must be an acknowledged create."""
    assert [response.status_code for response in responses] == [200] * len(responses), [
        response.text for response in responses if response.status_code != 200
    ]
    return [response.json()["id"] for response in responses]


def _tasks_in_file(path: Path) -> set[str]:
    with sqlite3.connect(path) as other:
        return {task_id for (task_id,) in other.execute("SELECT id FROM tasks")}


def test_concurrent_creates_share_commits_and_are_in_the_file_when_answered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path, group=True)
    engine = Engine(clock=RealClock(), store=store)
    with BackgroundServer(engine) as server:
        before = store.commits
        ids = _acknowledged(asyncio.run(_create_all(server.base_url)))
        commits = store.commits - before
        assert set(ids) <= _tasks_in_file(path)  # committed before any answer was sent
    assert len(set(ids)) == REQUESTS
    assert 1 <= commits < REQUESTS, commits
    store.close()


def test_a_failed_commit_answers_503_and_loses_no_earlier_task(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path, group=True)
    engine = Engine(clock=RealClock(), store=store)
    with (
        BackgroundServer(engine) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        kept = client.post(CREATE_PATH, json=VALID_BODY, headers=auth(TOKEN)).json()["id"]
        store._db.set_authorizer(deny_commit)
        refused = client.post(CREATE_PATH, json=VALID_BODY, headers=auth(TOKEN))
        read = client.get(f"/v1/tasks/{kept}", headers=auth(TOKEN))  # its count: a write
        store._db.set_authorizer(None)
        for response in (refused, read):
            assert response.status_code == 503
            assert response.json() == protocol_error(503, NOT_SAVED)
            assert response.json()["error"]["code"] == "service_unavailable"
        assert client.get(f"/v1/tasks/{kept}", headers=auth(TOKEN)).status_code == 200
        assert client.get("/__mock/health").json()["tasks"] == 1
    created, lost, lost_read = [e for e in engine.journal if e.operation != "mock"][:3]
    assert (created.status, created.task_id) == (200, kept)
    for entry, response in ((lost, refused), (lost_read, read)):  # the journal tells it so
        assert (entry.status, entry.task_status) == (503, None)
        assert entry.response_body == response.content
        assert "unsaved" in entry.notes
    assert _tasks_in_file(path) == {kept}
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_creates_survive_kill_9_with_unique_ids(tmp_path: Path, workers: int) -> None:
    state = tmp_path / "state.db"
    process, url = start_serve("--quiet", "--state", str(state), "--workers", str(workers))
    try:
        ids = _acknowledged(asyncio.run(_create_all(url, fresh=workers > 1)))
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert len(set(ids)) == REQUESTS
    assert _tasks_in_file(state) == set(ids)
    process, url = start_serve("--quiet", "--state", str(state))
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for task_id in ids:
                assert client.get(f"/v1/tasks/{task_id}", headers=auth(TOKEN)).status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_saved_commits_only_what_is_pending_and_says_whether_it_was_kept(
    tmp_path: Path,
) -> None:
    store = SqliteTaskStore(tmp_path / "state.db", group=True)
    engine = Engine(clock=VirtualClock(), store=store, seed=3)
    commits = GroupCommit(engine)
    assert engine.commit_writes()
    assert not engine.writes_pending()
    before = store.commits
    assert asyncio.run(commits.saved())  # nothing pending: no commit
    assert store.commits == before
    assert create(engine, VALID_BODY).status == 200
    assert engine.writes_pending()
    store._db.set_authorizer(deny_commit)
    try:
        assert not asyncio.run(commits.saved())
    finally:
        store._db.set_authorizer(None)
    assert create(engine, VALID_BODY).status == 200
    assert asyncio.run(commits.saved())
    assert not engine.writes_pending()
    store.close()


def test_no_callback_goes_out_when_its_state_could_not_be_saved(tmp_path: Path) -> None:
    clock = VirtualClock()
    store = SqliteTaskStore(tmp_path / "state.db", group=True)
    engine = Engine(clock=clock, store=store, seed=3)
    created = create(engine, {**VALID_BODY, "callback_url": "https://hooks.example.com/hook"})
    assert created.status == 200, created.json_body()
    assert engine.commit_writes()
    clock.advance(1000)  # the task has ended: its callback is due
    looked_up: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.216.34"]

    async def run() -> list[JournalEntry]:
        dispatcher = CallbackDispatcher(engine, interval=0.01, resolver=resolver)
        store._db.set_authorizer(deny_commit)
        await dispatcher.start()
        try:
            deadline = time.monotonic() + 10
            while not (attempts := [e for e in engine.journal if e.operation == "callback"]):
                assert time.monotonic() < deadline, "no callback attempt recorded"
                await asyncio.sleep(0.01)
        finally:
            await dispatcher.stop()
            store._db.set_authorizer(None)
        return attempts

    (attempt,) = asyncio.run(run())
    assert looked_up == []  # never contacted
    assert attempt.notes["error"] == UNSAVED
    assert not attempt.notes["delivered"]
    assert attempt.notes["retry_planned"]
    store.close()
