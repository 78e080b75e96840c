"""``Retry-After`` is in the client's seconds: real seconds on a sped-up real clock."""

from __future__ import annotations

from sora_mock.engine.clock import RealClock, VirtualClock
from sora_mock.engine.core import Engine
from tests.helpers import auth, create_request

LIMITED = "sk-demo-rate-limited"  # 1 request per 60 mock seconds (spec/mock-defaults.yaml)


def test_a_rate_limit_window_is_told_in_real_seconds_on_a_sped_up_clock() -> None:
    engine = Engine(clock=RealClock(speed=50))
    request = create_request(token=LIMITED)
    assert engine.handle(request).status == 200
    limited = engine.handle(request)
    assert limited.status == 429
    assert limited.header("retry-after") == "2"  # 60 mock seconds at 50x: 1.2 s, rounded up


def test_a_rate_limit_window_is_told_in_mock_seconds_on_a_virtual_clock() -> None:
    engine = Engine(clock=VirtualClock())
    request = create_request(token=LIMITED)
    engine.handle(request)
    assert engine.handle(request).header("retry-after") == "60"


def test_a_scenario_s_retry_after_is_sent_as_written_whatever_the_speed() -> None:
    engine = Engine(clock=RealClock(speed=50))
    headers = {**auth(), "prefer": "scenario=create-rate-limited-once"}
    limited = engine.handle(create_request(headers=headers))
    assert limited.status == 429
    assert limited.header("retry-after") == "2"
