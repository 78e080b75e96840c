"""The checker's run keeps every answer as the engine's exchange record."""

from __future__ import annotations

import httpx

from sora_mock.checker import Checker, CheckOptions
from sora_mock.inprocess import DEFAULT_BASE_URL, MockAPI


def test_the_checker_records_each_answer_as_the_exchange_the_mock_recorded() -> None:
    api = MockAPI(seed=1)
    options = CheckOptions(
        token="sk-runner-owner-1",
        other_token="sk-runner-other-2",
        max_examples=2,
        seed=1,
        max_tasks=1,
        poll_interval=5,
        timeout=300,
    )
    with httpx.Client(base_url=DEFAULT_BASE_URL, transport=api.transport()) as client:
        checker = Checker(client, options, sleep=api.sleep, clock=api.clock.now)
        result = checker.run()
    assert result.ok, result.ledger.failures
    seen = checker.exchanges.snapshot()
    assert len(seen) == result.exchanges == len(api.calls)
    # Over HTTP the journal is out of reach; the mock's own record of the call has it.
    assert all(exchange.entry is None for exchange in seen)
    assert all(call.entry is not None for call in api.calls)
    assert [(e.method, e.path, e.status, e.response.body) for e in seen] == [
        (c.method, c.path, c.status, c.response.body) for c in api.calls
    ]
