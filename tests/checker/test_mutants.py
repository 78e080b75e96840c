"""The checker flags every deliberately broken server with the right rule, and passes the mock.

Each mutant (``tests/mutants.py``) is the mock with one rule broken, served over real HTTP on
a free port. Time is fake on both sides: the mutant's clock moves on every poll and the
checker's waits advance a counter, so nothing sleeps.
"""

from __future__ import annotations

import httpx
import pytest

from sora_mock.checker import RULES, Checker, CheckOptions, CheckResult
from sora_mock.server import BackgroundServer
from tests.mutants import CONTROLS, MUTANTS, MutantSpec

OWNER, OTHER = "sk-mutant-owner-1", "sk-mutant-other-2"


class FakeTime:
    """The checker's clock: ``sleep`` moves it, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def check(spec: MutantSpec, **overrides: object) -> CheckResult:
    options = CheckOptions(
        token=OWNER,
        other_token=OTHER,
        max_examples=5,
        seed=1,
        max_tasks=2,
        poll_interval=5,
        timeout=300,
        **overrides,  # type: ignore[arg-type]
    )
    time = FakeTime()
    with (
        BackgroundServer(spec.factory()) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        return Checker(client, options, sleep=time.sleep, clock=time.clock).run()


def test_every_mutant_names_a_real_rule_and_rules_are_covered() -> None:
    named = {spec.rule for spec in MUTANTS}
    assert named <= set(RULES)
    # Every rule except the one a well-behaved server never triggers has a mutant.
    assert set(RULES) - named == {"positive_accepted"}


@pytest.mark.parametrize("spec", MUTANTS, ids=lambda spec: spec.name)
def test_checker_flags_the_broken_rule(spec: MutantSpec) -> None:
    result = check(spec)
    failed = result.ledger.failed_rules()
    assert spec.rule in failed, f"{spec.name} ({spec.breaks}) not flagged; got {sorted(failed)}"
    first = next(f for f in result.ledger.failures if f.rule == spec.rule)
    assert first.probe is not None or spec.rule == "lifecycle_terminates"


@pytest.mark.parametrize("spec", CONTROLS, ids=lambda spec: spec.name)
def test_checker_passes_servers_that_keep_the_contract(spec: MutantSpec) -> None:
    result = check(spec)
    assert result.ok, [f"{f.rule}: {f.message}" for f in result.ledger.failures]
    untested = {rule for rule, count in result.ledger.checked.items() if count == 0}
    assert untested == {"retry_after"}  # nothing is rate limited


def test_a_failed_task_dropping_to_progress_zero_is_only_a_warning() -> None:
    spec = next(s for s in CONTROLS if s.name == "fails_with_progress_zero")
    warnings = check(spec).ledger.warnings
    assert any(w.rule == "lifecycle_monotonic" and "dropped to 0" in w.message for w in warnings)


def test_ignored_rules_are_not_reported() -> None:
    spec = next(s for s in MUTANTS if s.name == "text_plain")
    result = check(spec, ignore=frozenset({"content_type"}))
    assert result.ok
    assert result.ledger.checked["content_type"] == 0
