"""One request's exchange: the response and the journal entry, as one record."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

from sora_mock.contract import Contract
from sora_mock.contract.messages import Request
from sora_mock.engine import (
    Engine,
    Exchange,
    Recorder,
    VirtualClock,
)
from sora_mock.engine.journal import JournalEntry
from sora_mock.engine.rows import RowCodec
from tests.helpers import a_task, auth, create_request, task_request


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def engine(clock: VirtualClock) -> Engine:
    return Engine(clock=clock, seed=1)


def test_an_exchange_is_the_response_and_the_entry_recorded(
    engine: Engine, clock: VirtualClock
) -> None:
    created = engine.exchange(create_request())
    assert isinstance(created, Exchange)
    assert created.entry == list(engine.journal)[-1]
    assert (created.method, created.path, created.status) == (
        "POST",
        "/v1/videos/generations",
        200,
    )
    assert created.is_create
    assert not created.is_poll
    assert created.operation == Contract.bundled().tasks.create.operation_id
    assert created.task_id == created.json()["id"]
    assert created.task_status == "pending"
    assert created.time == engine.clock.now()
    assert created.summary() == "POST /v1/videos/generations -> 200 pending"
    assert created.describe(created.time - 2) == "t=+2s POST /v1/videos/generations -> 200 pending"
    assert created.response.header("x-request-id") == "req-00000001"

    clock.advance(1000)
    polled = engine.exchange(task_request(created.task_id or ""))
    assert polled.is_poll
    assert polled.operation == Contract.bundled().tasks.read.operation_id
    assert polled.task_status == "completed"
    assert polled.failure_code is None
    assert polled.entry is not None
    assert created.entry is not None
    assert polled.entry.seq == created.entry.seq + 1


def test_handle_answers_as_exchange_does() -> None:
    first, second = Engine(clock=VirtualClock(), seed=1), Engine(clock=VirtualClock(), seed=1)
    for request in (create_request(), Request.build("GET", "/nowhere", headers=auth())):
        assert first.handle(request) == second.exchange(request).response


def test_a_refusal_carries_its_violations_and_failures_their_code(
    engine: Engine, clock: VirtualClock
) -> None:
    refused = engine.exchange(create_request(headers={"content-type": "application/json"}))
    assert refused.status == 401
    assert refused.violations == ("missing Authorization header",)
    assert refused.task_status is None
    assert refused.summary() == "POST /v1/videos/generations -> 401 unauthorized"

    failing = create_request(headers={**auth(), "prefer": "scenario=fail-service_error"})
    task_id = engine.exchange(failing).task_id
    clock.advance(1000)
    failed = engine.exchange(task_request(task_id or ""))
    assert failed.scenario == "fail-service_error"
    assert failed.task_status == "failed"
    assert failed.failure_code == "service_error"
    assert failed.summary().endswith(f"failed {failed.failure_code}")


def test_a_body_that_is_not_json_reads_as_none(engine: Engine) -> None:
    exchange = engine.exchange(Request.build("GET", "/__mock/files/none/profile.png"))
    assert exchange.status == 404
    assert exchange.json() == {"error": exchange.json()["error"]}
    assert Exchange(exchange.request, exchange.response, exchange.entry) == exchange


def test_a_row_codec_converts_both_ways_and_shares_values() -> None:
    codec: RowCodec[Any] = RowCodec(type(a_task()), shared=("plan", "reported"))
    tasks = [a_task(id=f"task-unified-1-{n}") for n in range(3)]
    rows = [codec.encode(task) for task in tasks]
    assert [codec.decode(row) for row in rows] == tasks
    assert len({row[codec.names.index("plan")] for row in rows}) == 1
    gc.collect()
    assert not any(gc.is_tracked(row) for row in rows)


def test_a_blank_field_is_kept_as_none_and_read_back_empty() -> None:
    codec = RowCodec(JournalEntry, blank=("notes",))
    entry = JournalEntry(
        seq=1, time=0.0, method="GET", path="/", operation=None, token=None, status=404
    )
    row = codec.encode(entry)
    assert row[codec.names.index("notes")] is None
    assert codec.decode(row) == entry
    noted = JournalEntry(
        seq=2, time=0.0, method="GET", path="/", operation=None, token=None, status=404,
        notes={"attempt": 1},
    )  # fmt: skip
    assert codec.decode(codec.encode(noted)) == noted


def test_a_codec_names_only_fields_of_its_class() -> None:
    with pytest.raises(ValueError, match="no field 'nope'"):
        RowCodec(JournalEntry, shared=("nope",))
    with pytest.raises(ValueError, match="no default_factory"):
        RowCodec(JournalEntry, blank=("status",))


def test_an_exchange_without_a_journal_entry_reads_what_the_answer_says(engine: Engine) -> None:
    answered = engine.exchange(create_request())
    seen = Exchange(answered.request, answered.response)  # as a server reached over HTTP
    assert seen.entry is None
    assert (seen.method, seen.path, seen.status) == ("POST", "/v1/videos/generations", 200)
    assert seen.json() == answered.json()
    assert answered.summary() == "POST /v1/videos/generations -> 200 pending"
    # The task's state is the journal's: an answer alone (of any contract) does not tell it.
    assert seen.summary() == "POST /v1/videos/generations -> 200"
    assert (seen.operation, seen.scenario, seen.task_id, seen.violations) == (None, None, None, ())
    assert not seen.is_create
    assert not seen.is_poll
    assert seen.task_status is None
    assert seen.failure_code is None
    assert seen.describe() == "POST /v1/videos/generations -> 200"
    with pytest.raises(LookupError, match="no journal entry"):
        _ = seen.time


def test_a_recorder_keeps_exchanges_in_order_and_tells_its_callback(engine: Engine) -> None:
    told: list[Exchange] = []
    recorder = Recorder(on_record=told.append)
    created = recorder.answer(engine.exchange, create_request())
    polled = recorder.answer(engine.exchange, task_request(created.task_id or ""))
    elsewhere = recorder.record(Exchange(polled.request, polled.response))
    assert list(recorder) == told == [created, polled, elsewhere]
    assert (len(recorder), recorder[0], recorder[-1]) == (3, created, elsewhere)
    assert recorder[1:] == recorder.snapshot()[1:] == (polled, elsewhere)
    assert repr(recorder) == "Recorder(3 exchanges)"
    recorder.clear()
    assert recorder.snapshot() == ()
    assert len(told) == 3


def test_a_recorder_records_nothing_when_the_answer_fails() -> None:
    recorder = Recorder()

    def refuse(request: Request) -> Exchange:
        raise ConnectionError(request.path)

    with pytest.raises(ConnectionError):
        recorder.answer(refuse, create_request())
    assert len(recorder) == 0


def test_a_shared_recorder_keeps_the_order_the_engine_answered(engine: Engine) -> None:
    recorder = Recorder()

    def create_many() -> None:
        for _ in range(50):
            recorder.answer(engine.exchange, create_request())

    threads = [threading.Thread(target=create_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = [exchange.entry.seq for exchange in recorder if exchange.entry is not None]
    assert seqs == sorted(seqs)
    assert len(seqs) == 200
