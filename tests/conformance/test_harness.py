"""The conformance harness on the example clients and on clients broken in one way each."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sora_mock.conformance import ConformanceReport, Harness, catalogue
from tests.conformance_clients import BROKEN, naive, polite, runner

NAIVE_BREAKS = {"poll-interval", "retry-after", "give-up-bound", "no-futile-retry", "outcome"}


@pytest.fixture(scope="module")
def polite_report() -> tuple[ConformanceReport, float]:
    started = time.perf_counter()
    report = Harness().check(polite.conformance_client, name="polite")
    return report, time.perf_counter() - started


@pytest.fixture(scope="module")
def naive_report() -> ConformanceReport:
    # A shorter limit and search than the defaults keep this hammering client's runs short.
    return Harness(time_limit=150, examples=5).check(naive.conformance_client, name="naive")


def test_the_polite_client_passes_every_situation(
    polite_report: tuple[ConformanceReport, float],
) -> None:
    report, _ = polite_report
    assert report.passed, report.to_text()
    assert [r.situation.name for r in report.results] == [s.name for s in catalogue()]
    assert all(r.passed for r in report.results)
    assert "all kept" in report.to_text()


def test_the_matrix_puts_every_rule_to_the_test(
    polite_report: tuple[ConformanceReport, float],
) -> None:
    report, _ = polite_report
    tested = {v.rule for r in report.results for v in r.verdicts if v.status == "pass"}
    assert tested == {rule.id for rule in report.rules}
    # The rules that only some situations exercise are exercised where they should be.
    assert report.result("poll-rate-limited-once").verdict("retry-after").status == "pass"
    assert report.result("rate-limited-token").verdict("retry-after").status == "pass"
    assert report.result("create-insufficient_quota").verdict("no-futile-retry").status == "pass"
    assert report.result("never-finishes").verdict("give-up-bound").message.startswith("gave up")
    assert report.result("success").verdict("stops-at-terminal").status == "pass"


def test_the_whole_matrix_runs_in_seconds_on_the_virtual_clock(
    polite_report: tuple[ConformanceReport, float],
) -> None:
    report, wall = polite_report
    client_seconds = sum(r.run.elapsed for r in report.results)
    requests = sum(len(r.run.exchanges) for r in report.results)
    assert client_seconds > 3600  # over an hour of the client's time (slow, never-finishes, ...)
    assert requests > 1000
    assert wall < 60, f"the matrix took {wall:.1f} s"


@pytest.mark.slow
def test_the_naive_client_fails_exactly_the_rules_it_breaks(
    naive_report: ConformanceReport,
) -> None:
    broken = naive_report.broken()
    assert set(broken) == NAIVE_BREAKS
    names = {rule: {r.situation.name for r in hits} for rule, hits in broken.items()}
    # It polls every 0.5 s wherever it polls; creates that fail make it stop before polling.
    assert "success" in names["poll-interval"]
    assert "create-insufficient_quota" not in names["poll-interval"]
    # It retries a status read at once, whatever the answer.
    assert names["retry-after"] == {
        "poll-rate_limit_exceeded",
        "poll-rate-limited-once",
        "rate-limited-token",
    }
    assert names["no-futile-retry"] == {
        "poll-invalid_task_id",
        "poll-unauthorized",
        "poll-quota_exceeded",
        "poll-permission_denied",
    }
    assert "never-finishes" in names["give-up-bound"]
    # A failed task is reported without its code; one 429 on create is fatal.
    fails = {s.name for s in catalogue() if s.name.startswith("fail-")}
    assert names["outcome"] == fails | {"create-rate-limited-once"}


def test_the_naive_report_names_each_rule_with_evidence(naive_report: ConformanceReport) -> None:
    text = naive_report.to_text()
    assert "5 rule(s) broken" in text
    for rule in NAIVE_BREAKS:
        assert f"\n{rule}: " in text
    assert "<- 0.50 s after the previous request for this task" in text
    assert "<- sent again after 401 unauthorized, which cannot succeed" in text
    assert "the failure code 'content_policy_violation' is not in what the client reported" in text
    result = naive_report.result("never-finishes")
    assert result.run.stopped == "still running after 150 s"
    assert result.verdict("outcome").status == "n/a"


@pytest.mark.parametrize("fault", list(BROKEN))
def test_a_client_with_one_fault_is_caught_by_the_rule_it_breaks(fault: str) -> None:
    client_class, situations, rules = BROKEN[fault]
    report = Harness(examples=10).check(runner(client_class), situations)
    assert set(report.broken()) == rules, report.to_text()


def test_a_crash_on_an_unknown_field_is_shrunk_to_one_extra_field() -> None:
    client_class, _, _ = BROKEN["crashes on an unknown field"]
    report = Harness(examples=25).check(runner(client_class), ["unusual-generated"])
    result = report.result("unusual-generated")
    variation = result.run.variation
    assert variation is not None
    assert len(variation.extra) == 1
    assert variation.extra[0][0] == ""
    assert variation.drop == ()
    assert not variation.instant
    assert "shrunk to a minimal one" in result.note
    assert "unexpected field(s) in the task" in result.verdict("outcome").message


def _details(report: ConformanceReport) -> dict[str, Any]:
    return {r.situation.name: [v.rule for v in r.failures] for r in report.results}


def test_reports_are_deterministic(naive_report: ConformanceReport) -> None:
    again = Harness(time_limit=150, examples=5).check(
        naive.conformance_client, ["success", "poll-unauthorized", "fail-service_error"]
    )
    first = {k: v for k, v in _details(naive_report).items() if k in _details(again)}
    assert _details(again) == first
