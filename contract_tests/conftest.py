"""The contract suite runs against a real sora-mock server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sora_mock.clock import VirtualClock
from sora_mock.engine import Engine
from sora_mock.server import BackgroundServer


@pytest.fixture(scope="module")
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(scope="module")
def api(clock: VirtualClock) -> Iterator[httpx.Client]:
    with (
        BackgroundServer(Engine(clock=clock, seed=5)) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        yield client
