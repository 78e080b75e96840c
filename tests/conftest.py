from __future__ import annotations

import pytest

from sora_mock.clock import VirtualClock
from sora_mock.contract import Contract
from sora_mock.engine import Engine


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def contract() -> Contract:
    return Contract.bundled()


@pytest.fixture
def engine(clock: VirtualClock, contract: Contract) -> Engine:
    return Engine(contract=contract, clock=clock, seed=7)
