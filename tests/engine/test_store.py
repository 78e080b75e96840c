"""The stores: the memory store keeps rows, not task objects (what a read changes lasts only
once saved); the SQLite state file keeps the mock time reached, tokens only as keyed hashes,
and the link secret."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from pathlib import Path

import pytest

from sora_mock.contract import Response
from sora_mock.engine.clock import DEFAULT_EPOCH, VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import mask_token
from sora_mock.engine.lifecycle import Lifecycle
from sora_mock.engine.reported import Reported
from sora_mock.engine.store import SqliteTaskStore, TaskStore
from sora_mock.engine.store.memory import _STRINGS_KEPT
from sora_mock.engine.store.stored import StoredTask
from tests.helpers import a_task, create, deny_commit, poll


def test_a_stored_task_reads_back_field_for_field() -> None:
    store = TaskStore()
    task = a_task(scenario="slow", callback_url="https://example.com/hook", polls=2)
    store.add(task)
    assert store.get(task.id) == task
    assert list(store) == [task]
    assert store.get("task-unified-1-zzzzzzzz") is None


def test_what_a_read_changes_lasts_once_saved() -> None:
    store = TaskStore()
    store.add(a_task())
    read = store.get("task-unified-1-aaaaaaaa")
    assert read is not None
    read.read(1000.0)  # past the end: counts the read and notes the end
    unsaved = store.get(read.id)
    assert unsaved is not None
    assert (unsaved.polls, unsaved.ended_at) == (0, None)
    store.save(read)
    saved = store.get(read.id)
    assert saved is not None
    assert (saved.polls, saved.ended_at) == (1, read.ended_at)
    assert saved.ended_at is not None


def test_saving_a_purged_task_does_not_bring_it_back() -> None:
    store = TaskStore()
    task = a_task()
    store.add(task)
    assert store.purge(task.expires_at() + 1) == 1
    store.save(task)
    assert task.id not in store
    assert len(store) == 0


def test_each_task_keeps_its_own_plan_and_reported_values() -> None:
    store = TaskStore()
    slow = a_task(plan=Lifecycle(pending_seconds=500))
    small = a_task(id="task-unified-1-bbbbbbbb", reported=Reported({"x": 1}, retention=60))
    plain = a_task(id="task-unified-1-cccccccc")
    for task in (slow, small, plain):
        store.add(task)
    for task in (slow, small, plain):
        stored = store.get(task.id)
        assert stored is not None
        assert stored.plan == task.plan
        assert stored.reported == task.reported
    store.clear()
    assert len(store) == 0
    store.add(plain)  # the shared values start over with the tasks
    assert store.get(plain.id) == plain


def test_both_stores_refuse_a_taken_id(tmp_path: Path) -> None:
    for store in (TaskStore(), SqliteTaskStore(str(tmp_path / "state.db"))):
        first = a_task()
        assert store.add(first)
        assert not store.add(a_task(model="other", polls=3))
        kept = store.get(first.id)
        assert kept is not None
        assert store.owns(kept, first.token)
        assert dataclasses.replace(kept, token=first.token) == first
        assert len(store) == 1


def test_the_link_secret_is_kept_per_store_and_per_file(tmp_path: Path) -> None:
    assert len(TaskStore().link_secret()) == 32
    assert TaskStore().link_secret() != TaskStore().link_secret()
    path = tmp_path / "state.db"
    first = SqliteTaskStore(path)
    secret = first.link_secret()
    first.clear()
    assert len(secret) == 32
    assert SqliteTaskStore(path).link_secret() == secret
    assert SqliteTaskStore(tmp_path / "other.db").link_secret() != secret


def _file_bytes(path: Path) -> bytes:
    """The state file with its write-ahead log, as they are on disk."""
    parts = [path, path.with_name(path.name + "-wal")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def _seen(engine: Engine, task_id: str, token: str) -> tuple[str, int]:
    body = poll(engine, task_id, token).json_body()
    return body["status"], body["progress"]


def test_a_restarted_engine_continues_from_the_time_the_file_reached(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    task_id = create(first, token="sk-restart-0001").json_body()["id"]
    first.clock.advance(60)  # type: ignore[attr-defined]
    before = _seen(first, task_id, "sk-restart-0001")
    assert before[0] == "processing"
    assert before[1] > 0
    # A restart (the first engine's store left open, as after kill -9): the new clock
    # starts from its own origin again, behind the time the file reached.
    restarted = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    assert restarted.clock.now() == DEFAULT_EPOCH + 60
    after = _seen(restarted, task_id, "sk-restart-0001")
    assert after == before


def test_engines_sharing_a_file_answer_at_the_latest_time_either_reached(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    ahead = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    behind = Engine(clock=VirtualClock(), seed=2, store=SqliteTaskStore(path))
    task_id = create(ahead, token="sk-worker-0001").json_body()["id"]
    ahead.clock.advance(100)  # type: ignore[attr-defined]
    seen = _seen(ahead, task_id, "sk-worker-0001")
    assert _seen(behind, task_id, "sk-worker-0001") == seen
    assert behind.clock.now() == DEFAULT_EPOCH + 100


def test_the_memory_store_keeps_the_latest_time_too() -> None:
    store = TaskStore()
    assert store.keep_time(5.0) == 5.0
    assert store.keep_time(3.0) == 5.0
    assert store.keep_time(8.0) == 8.0


def test_the_state_file_keeps_tokens_only_as_keyed_hashes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    token = "sk-at-rest-secret-7c1f"
    task_id = create(engine, token=token).json_body()["id"]
    assert poll(engine, task_id, token).status == 200
    assert poll(engine, task_id, "sk-at-rest-other-0000").status == 403
    assert token.encode() not in _file_bytes(path)
    stored = engine.store.get(task_id)
    assert stored is not None
    assert engine.store.owns(stored, token)
    assert not engine.store.owns(stored, "sk-at-rest-other-0000")
    assert not engine.store.owns(stored, None)
    # Another file keys its hashes with another secret.
    other = SqliteTaskStore(tmp_path / "other.db")
    other.add(a_task(token=token))
    kept = other.get("task-unified-1-aaaaaaaa")
    assert kept is not None
    assert kept.token != stored.token
    assert other.owns(kept, token)


def test_a_state_file_with_plain_tokens_is_hashed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    token = "sk-old-format-plain-42"
    task = a_task(token=token, created_at=DEFAULT_EPOCH, ended_at=DEFAULT_EPOCH + 300)
    with sqlite3.connect(path) as old:  # the layout before meta and hashed tokens
        old.executescript(
            "CREATE TABLE tasks (id TEXT PRIMARY KEY, expires_at REAL NOT NULL,"
            " polls INTEGER NOT NULL DEFAULT 0, ended_at REAL, task TEXT NOT NULL);"
            "CREATE INDEX tasks_expiry ON tasks (expires_at);"
        )
        old.execute(
            "INSERT INTO tasks VALUES (?, ?, ?, ?, ?)",
            (task.id, task.expires_at(), 3, task.ended_at, json.dumps(StoredTask.of(task).data)),
        )
    old.close()
    assert token.encode() in path.read_bytes()
    store = SqliteTaskStore(path)
    assert token.encode() not in _file_bytes(path)
    kept = store.get(task.id)
    assert kept is not None
    assert store.owns(kept, token)
    assert store.shown_token(kept) == mask_token(token)
    assert kept.polls == 3
    # The mock time of an old file is at least the latest time its tasks show.
    assert store.keep_time(0.0) == DEFAULT_EPOCH + 300
    (check,) = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()
    assert check == "ok"


def test_a_task_stored_without_its_shown_token_shows_a_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteTaskStore(path).add(a_task(token="sk-hashed-before-shown-1"))
    with sqlite3.connect(path) as file:  # as a file from before shown tokens has it
        file.execute("DELETE FROM tokens")
    file.close()
    store = SqliteTaskStore(path)
    kept = store.get("task-unified-1-aaaaaaaa")
    assert kept is not None
    assert store.owns(kept, "sk-hashed-before-shown-1")
    assert store.shown_token(kept) == "***"
    assert store.shown_token(a_task(id="task-unified-1-gone0000")) == "***"


def _write_transactions(statements: list[str]) -> int:
    """Write transactions among ``statements`` as SQLite ran them: each ``BEGIN`` … ``COMMIT``,
    and each write outside one (its own)."""
    count, inside = 0, False
    for sql in statements:
        word = sql.split(None, 1)[0].upper()
        if word == "BEGIN":
            count, inside = count + 1, True
        elif word in ("COMMIT", "ROLLBACK"):
            inside = False
        elif word in ("INSERT", "UPDATE", "DELETE") and not inside:
            count += 1
    return count


def test_a_create_and_a_poll_on_the_state_file_commit_once_each(tmp_path: Path) -> None:
    """The task and the time of its answer go in one transaction; the file's time and rows are
    read again only when another connection wrote."""
    store = SqliteTaskStore(tmp_path / "state.db")
    engine = Engine(clock=VirtualClock(), seed=1, store=store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    engine.clock.advance(1)  # type: ignore[attr-defined]
    task_id = create(engine).json_body()["id"]
    assert _write_transactions(statements) == 1
    for _ in range(3):
        statements.clear()
        engine.clock.advance(1)  # type: ignore[attr-defined]
        assert poll(engine, task_id).status == 200
        assert _write_transactions(statements) == 1
        assert not [sql for sql in statements if sql.upper().startswith("SELECT")]


def test_an_answer_looks_at_the_file_once_and_a_poll_rewrites_the_expiry_only_at_the_end(
    tmp_path: Path,
) -> None:
    """Whether another connection wrote is read once per answer (at its start); a poll that
    ends no task leaves the expiry, and so its index, out of the commit."""
    store = SqliteTaskStore(tmp_path / "state.db")
    engine = Engine(clock=VirtualClock(), seed=1, store=store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    task_id = create(engine).json_body()["id"]
    assert sum("data_version" in sql for sql in statements) == 1
    statements.clear()
    assert poll(engine, task_id).json_body()["status"] == "pending"
    assert sum("data_version" in sql for sql in statements) == 1
    assert not [sql for sql in statements if "expires_at" in sql]
    engine.clock.advance(150)  # type: ignore[attr-defined]
    statements.clear()
    assert poll(engine, task_id).json_body()["status"] == "completed"  # ends at this read
    assert [sql for sql in statements if "expires_at" in sql]
    with sqlite3.connect(store.path) as other:
        (expires,) = other.execute(
            "SELECT expires_at FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
    task = store.get(task_id)
    assert task is not None
    assert expires == task.expires_at()


def test_a_store_sees_another_connections_tasks_between_answers(tmp_path: Path) -> None:
    # The view an answer starts with serves it; the next answer looks again.
    path = tmp_path / "state.db"
    first = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    second = Engine(clock=VirtualClock(), seed=2, store=SqliteTaskStore(path))
    task_id = create(first).json_body()["id"]
    assert poll(second, task_id).json_body()["status"] == "pending"
    assert poll(first, task_id).json_body()["status"] == "pending"
    assert first.store.get(task_id).polls == 2  # type: ignore[union-attr]


def test_values_orjson_cannot_write_exactly_are_kept_exactly(tmp_path: Path) -> None:
    # orjson writes infinity as null and refuses integers past 64 bits and non-string keys:
    # such plans and reported values go through the standard library.
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path)
    endless = a_task(
        plan=Lifecycle(pending_seconds=math.inf, processing_seconds=None),
        reported=Reported({"tiny": -math.inf}, retention=math.inf),
    )
    big = a_task(id="task-unified-1-bbbbbbbb", reported=Reported({"big": 2**70}), draw=2**63)
    for task in (endless, big):
        assert store.add(task)
    store.close()
    reopened = SqliteTaskStore(path)
    try:
        kept = [dataclasses.replace(task, token="sk-test") for task in reopened]
        assert kept == [endless, big]
        assert all(reopened.owns(task, "sk-test") for task in reopened)
    finally:
        reopened.close()


def _file_time(path: Path) -> float:
    """The mock time the state file holds, as another connection reads it."""
    with sqlite3.connect(path) as other:
        (value,) = other.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
    return float(value)


def test_the_time_of_every_answer_is_in_the_file_when_it_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine = Engine(clock=VirtualClock(), seed=1, store=SqliteTaskStore(path))
    clock = engine.clock
    clock.advance(5)  # type: ignore[attr-defined]
    task_id = create(engine).json_body()["id"]
    assert _file_time(path) == clock.now()
    clock.advance(5)  # type: ignore[attr-defined]
    assert poll(engine, task_id).status == 200
    assert _file_time(path) == clock.now()
    clock.advance(5)  # type: ignore[attr-defined]
    assert poll(engine, task_id, token="sk-someone-else-1").status == 403  # writes no task
    assert _file_time(path) == clock.now()
    other = Engine(clock=VirtualClock(), seed=2, store=SqliteTaskStore(path))
    other.clock.advance(100)  # type: ignore[attr-defined]
    assert poll(other, task_id).status == 200
    assert poll(engine, task_id).json_body() == poll(other, task_id).json_body()
    assert _file_time(path) == other.clock.now() == engine.clock.now()


def test_tasks_share_one_copy_of_their_token_model_and_base_url() -> None:
    # Each request leaves its own copy of these strings; near 10^6 tasks, one copy per task
    # cost about 200 bytes each.
    store = TaskStore()
    for name in ("a", "b"):
        store.add(
            a_task(
                id=f"task-unified-1-{name * 8}",
                token="".join(["sk-", "test"]),
                model="".join(["sora-", "character"]),
                base_url="".join(["http://", "testserver"]),
            )
        )
    first, second = store.get("task-unified-1-aaaaaaaa"), store.get("task-unified-1-bbbbbbbb")
    assert first is not None
    assert second is not None
    assert first.token is second.token
    assert first.model is second.model
    assert first.base_url is second.base_url


def test_a_store_keeps_a_bounded_number_of_shared_strings() -> None:
    store = TaskStore()
    for index in range(10_000):
        store.add(a_task(id=f"task-unified-1-{index:08x}", token=f"sk-{index:012d}"))
    assert len(store._strings) <= _STRINGS_KEPT  # tokens are the client's: unbounded


def test_workers_on_one_state_file_keep_max_tasks_together(tmp_path: Path) -> None:
    # Each worker's tasks count for every other: no worker forgets more than the bound asks.
    first, second = SqliteTaskStore(tmp_path / "state.db"), SqliteTaskStore(tmp_path / "state.db")
    try:
        names = iter(f"task-unified-1-{index:08x}" for index in range(100))
        for _ in range(4):
            first.add(a_task(id=next(names)))
        assert first.trim(4) == 0
        second.add(a_task(id=next(names)))
        assert second.trim(4) == 1
        first.add(a_task(id=next(names)))
        assert first.trim(4) == 1
        assert len(first) == len(second) == 4
    finally:
        first.close()
        second.close()


def test_a_state_file_from_before_the_bound_is_counted_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path)
    for index in range(3):
        store.add(a_task(id=f"task-unified-1-{index:08x}"))
    store.close()
    with sqlite3.connect(path) as db:  # as a file written before tasks were counted
        db.execute("DROP TRIGGER tasks_added")
        db.execute("DROP TRIGGER tasks_deleted")
        db.execute("DELETE FROM meta WHERE key = 'tasks'")
    db.close()
    reopened = SqliteTaskStore(path)
    try:
        assert reopened.trim(2) == 1
        assert len(reopened) == 2
    finally:
        reopened.close()


def _tasks_in_file(path: Path) -> int:
    """The tasks the state file holds, as another connection reads it."""
    with sqlite3.connect(path) as other:
        (count,) = other.execute("SELECT COUNT(*) FROM tasks").fetchone()
    return int(count)


def test_a_group_store_commits_many_answers_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path, group=True)
    engine = Engine(clock=VirtualClock(), seed=1, store=store)
    assert engine.commit_writes()
    before, start = store.commits, _file_time(path)
    engine.clock.advance(5)  # type: ignore[attr-defined]
    ids = [create(engine).json_body()["id"] for _ in range(5)]
    assert poll(engine, ids[0]).json_body()["status"] == "pending"
    assert engine.writes_pending()
    assert _tasks_in_file(path) == 0  # settled answers, nothing committed
    assert _file_time(path) == start
    assert engine.commit_writes()
    assert not engine.writes_pending()
    assert store.commits == before + 1
    assert _tasks_in_file(path) == 5
    assert _file_time(path) == engine.clock.now()
    assert store.get(ids[0]).polls == 1  # type: ignore[union-attr]
    assert engine.commit_writes()  # nothing pending: no transaction
    assert store.commits == before + 1


def test_a_failed_group_commit_keeps_nothing_of_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteTaskStore(path, group=True)
    engine = Engine(clock=VirtualClock(), seed=1, store=store)
    kept = create(engine).json_body()["id"]
    assert engine.commit_writes()
    store._db.set_authorizer(deny_commit)
    lost = create(engine).json_body()["id"]
    assert poll(engine, kept).status == 200
    refused = Response.json(503, {"error": "not saved"})
    assert not engine.commit_writes(refused=refused)
    assert not engine.writes_pending()  # rolled back
    *_, saved, failed_create, failed_poll = engine.journal
    assert saved.status == 200
    assert saved.task_status == "pending"
    for entry in (failed_create, failed_poll):  # what their clients got instead
        assert (entry.status, entry.task_status, entry.task_progress) == (503, None, None)
        assert entry.response_body == refused.body
        assert entry.response_size == len(refused.body)
        assert "unsaved" in entry.notes
    assert failed_create.task_id == lost
    assert store.get(lost) is None  # the decoded rows are forgotten with it
    assert store.get(kept).polls == 0  # type: ignore[union-attr]
    assert _tasks_in_file(path) == 1
    store._db.set_authorizer(None)
    again = create(engine).json_body()["id"]
    assert engine.commit_writes()
    assert _tasks_in_file(path) == 2
    assert {task.id for task in store} == {kept, again}


def test_a_store_commits_each_answer_unless_grouped(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "state.db")
    engine = Engine(clock=VirtualClock(), seed=1, store=store)
    create(engine)
    assert not engine.writes_pending()
    assert _tasks_in_file(store.path) == 1
    assert not Engine(clock=VirtualClock()).writes_pending()  # in memory


def test_an_answer_that_raises_still_ends_the_answer(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "state.db")
    engine = Engine(clock=VirtualClock(), store=store, seed=1)
    task_id = create(engine).json_body()["id"]

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in the middle of an answer")

    engine._route = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        create(engine)
    other = sqlite3.connect(tmp_path / "state.db")
    other.execute("DELETE FROM tasks")  # another worker's write, seen from outside answers
    other.commit()
    other.close()
    assert store.get(task_id) is None  # the store looked at the file again
    store.close()
