"""Every contract rule, as one test each, over one checker run; and the lifecycle machine."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from contract_tests.conftest import Target
from sora_mock.checker import RULES, CheckResult, render_failures
from sora_mock.checker.stateful import lifecycle_machine

# The rules a correct server may leave unexercised (nothing rate-limits a short run).
MAY_BE_UNTESTED = {"retry_after"}


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_holds(rule: str, sora_contract_result: CheckResult) -> None:
    result = sora_contract_result
    failures = [f for f in result.ledger.failures if f.rule == rule]
    if failures:
        shown = render_failures(result, rules={rule})
        pytest.fail(f"{rule}: {RULES[rule]}\n\n{shown}", pytrace=False)
    if result.ledger.checked.get(rule, 0) == 0:
        if rule in MAY_BE_UNTESTED or (
            rule == "token_isolation" and not result.options.other_token
        ):
            pytest.skip(f"{rule} was not exercised by this run")
        pytest.fail(f"{rule} was never checked: the run did not reach it", pytrace=False)


def test_lifecycle_state_machine(sora_contract_target: Target) -> None:
    target = sora_contract_target
    if target.live:
        machine = lifecycle_machine(
            target.base_url,
            token=target.token,
            other_token=target.other_token,
            max_tasks=1,
            wait_seconds=target.poll_interval,
            contract=target.contract,
        )
        # No shrinking against a live server: every replayed step costs requests (and credits).
        budget = settings(
            max_examples=2,
            stateful_step_count=10,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
        )
    else:
        machine = lifecycle_machine(
            token=target.token, other_token=target.other_token, contract=target.contract
        )
        budget = settings(max_examples=20, stateful_step_count=30, deadline=None)
    run_state_machine_as_test(
        machine, settings=settings(budget, database=None, suppress_health_check=list(HealthCheck))
    )
