"""A long-running mock does not grow without bound: tasks expire, the journal is capped."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import FINAL_BODIES_KEPT, Engine
from sora_mock.engine.lifecycle import Lifecycle, lifecycle_from_dict
from sora_mock.engine.store import SqliteTaskStore, TaskStorage, TaskStore
from tests.helpers import TOKEN, auth, create, create_request, poll


def _lifecycle(engine: Engine) -> Lifecycle:
    """How a task of the bundled sora-character model lives."""
    return lifecycle_from_dict(engine.tasks.models["sora-character"].lifecycle, Lifecycle())


def test_expired_tasks_are_purged_and_memory_does_not_creep() -> None:
    clock = VirtualClock()
    config = MockConfig.defaults().with_overrides({"limits": {"journal_size": 10}})
    engine = Engine(config=config, clock=clock, seed=2)
    life = _lifecycle(engine)
    assert life.processing_seconds is not None
    lifetime = life.pending_seconds + life.processing_seconds + config.task.retention
    create(engine)  # warm caches and the journal before measuring
    gc.collect()
    # Live allocations (pymalloc blocks): free to read, unlike tracemalloc.
    before = sys.getallocatedblocks()
    peaks, leftovers = [], []
    for _ in range(4):  # fill, let everything expire, purge: four times over
        for index in range(500):
            create(engine, token=f"sk-retention-{index % 50:04d}")
        gc.collect()
        peaks.append(sys.getallocatedblocks() - before)
        clock.advance(lifetime)
        assert poll(engine, "task-unified-1-abcdefgh").status == 404  # this one purges
        assert len(engine.store) == 0
        gc.collect()
        leftovers.append(sys.getallocatedblocks() - before)
    assert min(peaks) > 500 * 5  # every task holds several objects...
    # ...which all go. The first round leaves warm caches (the interpreter's and json's)
    # and one balance per token; after it, a task that leaked even one object a round
    # would add 500 blocks per round.
    assert leftovers[0] < peaks[0] / 4, (leftovers, peaks)
    assert leftovers[3] - leftovers[1] < 100, (leftovers, peaks)


def test_a_task_survives_until_its_retention_ends() -> None:
    clock = VirtualClock()
    engine = Engine(clock=clock, seed=2)
    task_id = create(engine).json_body()["id"]
    life = _lifecycle(engine)
    assert life.processing_seconds is not None
    clock.advance(life.pending_seconds + life.processing_seconds + engine.config.task.retention - 1)
    assert poll(engine, task_id).status == 200
    clock.advance(1)
    assert poll(engine, task_id).status == 404


def test_the_journal_keeps_at_most_its_size() -> None:
    config = MockConfig.defaults().with_overrides({"limits": {"journal_size": 25}})
    engine = Engine(config=config, clock=VirtualClock(), seed=2)
    for _ in range(100):
        create(engine)
    assert len(engine.journal) == 25
    assert engine.journal.total == 100
    assert [e.seq for e in engine.journal] == list(range(76, 101))


def test_a_journal_of_size_zero_keeps_nothing() -> None:
    config = MockConfig.defaults().with_overrides({"limits": {"journal_size": 0}})
    engine = Engine(config=config, clock=VirtualClock(), seed=2)
    for _ in range(10):
        create(engine)
    assert len(engine.journal) == 0
    assert engine.journal.total == 10


def test_purging_goes_in_batches_and_expired_tasks_are_refused_meanwhile() -> None:
    from sora_mock.engine.clock import VirtualClock
    from sora_mock.engine.core import Engine
    from tests.helpers import create, poll

    clock = VirtualClock()
    engine = Engine(clock=clock)
    ids = [create(engine).json_body()["id"] for _ in range(25)]
    clock.advance(150 + 86400 + 1)
    assert engine.store.purge(clock.now(), limit=10) == 10
    assert len(engine.store) == 15
    still_stored = [task_id for task_id in ids if engine.store.get(task_id) is not None]
    assert len(still_stored) == 15
    assert poll(engine, still_stored[0]).status == 404  # refused; this request purges the rest
    assert len(engine.store) == 0


def test_unlimited_tokens_leave_no_account_behind() -> None:
    from sora_mock.engine.clock import VirtualClock
    from sora_mock.engine.core import Engine
    from tests.helpers import create

    engine = Engine(clock=VirtualClock())
    for n in range(50):
        create(engine, token=f"sk-random-{n:06d}")
    assert engine.accounts._spent == {}


def test_stored_tasks_are_not_walked_by_the_cycle_collector() -> None:
    # Each full collection walks every object the collector tracks: with a task object per
    # stored task, a server holding 9x10^5 tasks paused 0.6-0.7 s at each one. A stored
    # task must leave nothing tracked behind once a collection has seen it.
    engine = Engine(clock=VirtualClock(), seed=4)
    create(engine)
    gc.collect()
    tracked_before = len(gc.get_objects())
    for _ in range(1000):
        create(engine)
    gc.collect()
    assert len(engine.store) == 1001
    assert len(gc.get_objects()) - tracked_before < 50


# -- limits.max_tasks ----------------------------------------------------------------------

NEVER_FINISHES = {**auth(TOKEN), "prefer": "scenario=never-finishes"}


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskStorage]:
    """Each store: both keep the bound."""
    if request.param == "memory":
        yield TaskStore()
        return
    store = SqliteTaskStore(tmp_path / "state.db")
    yield store
    store.close()


def _bounded(
    max_tasks: int, store: TaskStorage, retention: float = 86400
) -> tuple[Engine, VirtualClock]:
    limits = {"max_tasks": max_tasks, "journal_size": 10}
    config = MockConfig.defaults().with_overrides(
        {"limits": limits, "task": {"retention": retention}}
    )
    clock = VirtualClock()
    return Engine(config=config, clock=clock, seed=3, store=store), clock


def _create_and_finish(engine: Engine, clock: VirtualClock) -> str:
    """A task created now and read until a status read sees it end."""
    task_id: str = create(engine).json_body()["id"]
    clock.advance(1000)
    assert poll(engine, task_id).json_body()["status"] == "completed"
    return task_id


def test_beyond_max_tasks_the_oldest_finished_tasks_are_forgotten(storage: TaskStorage) -> None:
    engine, clock = _bounded(5, storage)
    ids = [_create_and_finish(engine, clock) for _ in range(8)]
    assert len(engine.store) == 5
    assert [poll(engine, task_id).status for task_id in ids] == [404] * 3 + [200] * 5
    expired = poll(engine, "task-unified-1-abcdefgh")  # never stored
    assert poll(engine, ids[0]).json_body() == expired.json_body()


def test_unfinished_tasks_are_kept_while_finished_ones_can_go(storage: TaskStorage) -> None:
    engine, clock = _bounded(5, storage)
    running = [create_request(headers=NEVER_FINISHES) for _ in range(2)]
    running_ids = [engine.handle(request).json_body()["id"] for request in running]
    finished = [_create_and_finish(engine, clock) for _ in range(8)]
    assert len(engine.store) == 5
    for task_id in running_ids:
        answer = poll(engine, task_id)
        assert (answer.status, answer.json_body()["status"]) == (200, "processing")
    assert [poll(engine, task_id).status for task_id in finished] == [404] * 5 + [200] * 3


def test_when_no_task_is_finished_those_expiring_soonest_go(storage: TaskStorage) -> None:
    engine, clock = _bounded(3, storage)
    ids = []
    for _ in range(5):
        ids.append(engine.handle(create_request(headers=NEVER_FINISHES)).json_body()["id"])
        clock.advance(1)
    assert len(engine.store) == 3
    assert [poll(engine, task_id).status for task_id in ids] == [404] * 2 + [200] * 3


def test_memory_stays_bounded_past_max_tasks() -> None:
    # Forgotten tasks leave nothing behind: not in the expiry order, not in the order of
    # finished tasks, not their strings; not even while their retention has not run out.
    engine, clock = _bounded(50, TaskStore(), retention=1e9)
    for _ in range(FINAL_BODIES_KEPT + 100):  # the engine's cache of final bodies fills up
        _create_and_finish(engine, clock)
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(10_000):
        _create_and_finish(engine, clock)
    gc.collect()
    assert len(engine.store) == 50
    # A forgotten task that left even one object behind would add 10,000 blocks; what may
    # remain are the expiry entries of forgotten tasks not yet swept (a bounded number).
    assert sys.getallocatedblocks() - before < 5_000
