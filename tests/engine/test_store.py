"""The memory store keeps rows, not task objects: what a read changes lasts only once saved."""

from __future__ import annotations

from pathlib import Path

from sora_mock.engine.lifecycle import Lifecycle
from sora_mock.engine.reported import Reported
from sora_mock.engine.store import SqliteTaskStore, TaskStore
from tests.helpers import a_task


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
        assert store.get(first.id) == first
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
