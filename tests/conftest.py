from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sora_mock.contract.openapi import Contract
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.runner import BackgroundServer


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def contract() -> Contract:
    return Contract.bundled()


@pytest.fixture
def engine(clock: VirtualClock, contract: Contract) -> Engine:
    return Engine(contract=contract, clock=clock, seed=7)


@pytest.fixture
def server(engine: Engine) -> Iterator[BackgroundServer]:
    """The ``engine`` fixture behind a real uvicorn server on a free loopback port."""
    with BackgroundServer(engine) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    """An httpx client for ``server``."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http
