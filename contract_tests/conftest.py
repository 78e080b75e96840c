"""The contract suite: the checker's rules as pytest tests, against the mock or a live server.

By default it checks an in-process mock (a real HTTP server on a free loopback port whose
clock is virtual: the checker's waits move it, so nothing sleeps). Point it at any server::

    pytest contract_tests --sora-base-url https://api.example.com \\
        --sora-contract-token "$SORA_TOKEN" [--sora-contract-other-token "$SORA_OTHER_TOKEN"]

``--sora-base-url`` and ``--sora-spec`` are the sora-mock pytest plugin's options (the same
ones its fixtures read): the contract the plugin loads (the bundled one by default) is the
one the requests come from, the answers are judged by and the in-process mock serves.
Against a live server a run creates one task per model (each may cost credits).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sora_mock.checker import Checker, CheckOptions, CheckResult, add_token_options
from sora_mock.contract import Contract
from sora_mock.engine import Engine, MockConfig, VirtualClock
from sora_mock.server import BackgroundServer

MOCK_TOKEN, MOCK_OTHER = "sk-contract-suite-1", "sk-contract-suite-2"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sora-contract", "sora-mock contract suite")
    add_token_options(group.addoption, prefix="--sora-contract-")
    group.addoption(
        "--sora-contract-poll-interval",
        type=float,
        default=2.0,
        help="seconds between polls of a live server's tasks (default 2)",
    )


@dataclass(frozen=True)
class Target:
    """The server under test: where it is, its contract, the tokens, and how time passes
    for it."""

    base_url: str
    contract: Contract
    token: str
    other_token: str | None
    clock: VirtualClock | None  # set for the in-process mock: waiting advances it
    live: bool
    poll_interval: float = 5.0


def _option(config: pytest.Config, *names: str) -> Any:
    for name in names:
        value = config.getoption(name, default=None)
        if value:
            return value
    return None


@pytest.fixture(scope="session")
def sora_contract_target(pytestconfig: pytest.Config, sora_spec: Contract) -> Iterator[Target]:
    """The server the suite checks (a live one when a base URL is given), with the
    contract the plugin loaded (``--sora-spec``)."""
    base_url = _option(pytestconfig, "sora_base_url")
    if base_url:
        token = _option(pytestconfig, "sora_contract_token", "sora_token")
        if not token:
            pytest.exit("--sora-contract-token (or $SORA_TOKEN) is required with a base URL", 2)
        other = _option(pytestconfig, "sora_contract_other_token", "sora_other_token")
        interval = float(pytestconfig.getoption("sora_contract_poll_interval", default=2.0))
        yield Target(base_url, sora_spec, token, other, None, live=True, poll_interval=interval)
        return
    # The first status read of each of the suite's tasks answers 429, so the retry_after
    # rule is exercised against the mock too, not only against servers that rate-limit.
    config = MockConfig.defaults().with_overrides(
        {
            "scenarios": [
                {
                    "name": "suite-rate-limited-poll",
                    "extends": "poll-rate-limited-once",
                    "match": {"operation": "poll", "token": MOCK_TOKEN},
                }
            ]
        }
    )
    clock = VirtualClock()
    engine = Engine(contract=sora_spec, config=config, clock=clock, seed=5)
    with BackgroundServer(engine) as server:
        yield Target(server.base_url, sora_spec, MOCK_TOKEN, MOCK_OTHER, clock, live=False)


@pytest.fixture(scope="session")
def sora_contract_result(sora_contract_target: Target) -> CheckResult:
    """One checker run over the target, shared by every rule's test."""
    target = sora_contract_target
    options = CheckOptions(
        token=target.token,
        other_token=target.other_token,
        max_examples=10 if target.live else 20,
        seed=20260101,
        # Live: one task per model at most (each may cost credits); the mock: one more.
        max_tasks=len(target.contract.tasks.models) + (0 if target.live else 1),
        poll_interval=target.poll_interval,
        timeout=600.0,
    )
    with httpx.Client(base_url=target.base_url, timeout=30) as client:
        if target.clock is not None:
            clock = target.clock
            return Checker(
                client, options, target.contract, sleep=clock.advance, clock=clock.now
            ).run()
        return Checker(client, options, target.contract).run()
