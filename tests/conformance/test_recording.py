"""A situation's engine records every exchange, and tells no in-process listener."""

from __future__ import annotations

from sora_mock.conformance import catalogue
from sora_mock.conformance.recording import build_engine
from sora_mock.contract import Contract
from sora_mock.engine import Exchange, MockConfig, Recorder, VirtualClock
from sora_mock.inprocess import Call, MockAPI, add_listener, remove_listener
from tests.helpers import create_request, task_request


class _Listener:
    def __init__(self) -> None:
        self.answered: list[Call] = []

    def mock_created(self, api: MockAPI) -> None:
        pass

    def call_answered(self, api: MockAPI, call: Call) -> None:
        self.answered.append(call)


def test_the_engine_records_each_exchange_and_no_listener_hears_of_it() -> None:
    success = next(s for s in catalogue() if s.name == "success")
    engine = build_engine(
        success,
        contract=Contract.bundled(),
        config=MockConfig.defaults(),
        clock=VirtualClock(),
        speed=1.0,
    )
    told: list[Exchange] = []
    engine.exchanges.on_record = told.append
    listener = _Listener()
    add_listener(listener)
    try:
        task_id = engine.handle(create_request()).json_body()["id"]
        engine.handle(task_request(task_id))
    finally:
        remove_listener(listener)
    assert isinstance(engine.exchanges, Recorder)
    assert engine.exchanges.snapshot() == tuple(told)
    assert [e.operation for e in told] == ["createCharacterGeneration", "getTaskDetail"]
    assert all(e.scenario == "conformance-success" for e in told)
    assert listener.answered == []  # conformance traffic is no contract coverage
