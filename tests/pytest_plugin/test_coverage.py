"""Contract coverage: counting, merging, comparing with the contract, reporting."""

from __future__ import annotations

import json

from sora_mock.contract import Contract
from sora_mock.inprocess import MockAPI
from sora_mock.pytest_plugin import _coverage as coverage
from sora_mock.pytest_plugin._coverage import ContractCoverage
from tests.helpers import create_request, task_request


def _documented() -> dict[str, tuple[str, ...]]:
    return coverage.documented(Contract.bundled(), scenarios=["slow", "quota"])


def test_documented_comes_from_the_contract() -> None:
    found = _documented()
    assert found["operations"] == ("createCharacterGeneration", "getTaskDetail")
    assert "getTaskDetail 404" in found["status codes"]
    assert "createCharacterGeneration 418" not in found["status codes"]
    # A status only the second bundled model documents is one of the merged operation's.
    assert "createCharacterGeneration 503" in found["status codes"]
    assert found["task states"] == ("pending", "processing", "completed", "failed")
    assert "content_policy_violation" in found["failure codes"]
    assert found["scenarios"] == ("quota", "slow")


def test_report_lists_exercised_missing_and_undocumented() -> None:
    data = ContractCoverage()
    assert not data.used
    data.record(operation="createCharacterGeneration", status=200, task_status="pending")
    data.record(operation="createCharacterGeneration", status=405)
    data.record(
        operation="getTaskDetail",
        status=200,
        task_status="failed",
        failure_code="service_error",
        scenario="slow",
    )
    data.record(operation=None, status=404)
    assert data.used
    report = data.report(_documented())
    rows = {row.category: row for row in report.rows}
    assert rows["operations"].missing == ()
    assert rows["status codes"].covered == (
        "createCharacterGeneration 200",
        "getTaskDetail 200",
    )
    assert rows["status codes"].extra == ("createCharacterGeneration 405",)
    assert rows["task states"].missing == ("processing", "completed")
    assert rows["scenarios"].covered == ("slow",)
    assert rows["scenarios"].missing == ("quota",)
    documented_total = sum(len(v) for v in _documented().values())
    assert report.total == documented_total
    assert report.covered == 2 + 2 + 2 + 1 + 1
    assert abs(report.percent - 100 * 8 / documented_total) < 1e-9
    assert report.outside == 1
    as_json = report.to_json()
    assert as_json["categories"]["status codes"]["undocumented"] == [
        "createCharacterGeneration 405"
    ]
    assert as_json["requests_outside_contract"] == 1
    lines = report.lines()
    assert lines[0].split() == ["operations", "2/2", "100.0%"]
    assert "seen: createCharacterGeneration ×2, getTaskDetail ×1" in lines[1]
    assert any("never: createCharacterGeneration 400, 401" in line for line in lines)
    assert any("undocumented: createCharacterGeneration 405 ×1" in line for line in lines)
    assert lines[-1] == "(1 request(s) outside the contract not counted)"


def test_merge_adds_workers_together() -> None:
    first, second, total = ContractCoverage(), ContractCoverage(), ContractCoverage()
    first.record(operation="getTaskDetail", status=200, task_status="completed")
    second.record(operation="getTaskDetail", status=200, task_status="completed")
    second.record(operation=None, status=404)
    second.add_scenarios(["slow"])
    for part in (first, second):
        total.merge(json.loads(json.dumps(part.to_json())))
    assert total.counts["task states"]["completed"] == 2
    assert total.outside == 1
    assert total.known_scenarios == {"slow"}


def test_nothing_documented_is_full_coverage() -> None:
    report = ContractCoverage().report({})
    assert report.percent == 100.0
    assert "none documented" in report.lines()[0]


def test_mocks_report_to_the_innermost_sink() -> None:
    outer, inner = ContractCoverage(), ContractCoverage()
    coverage.push(outer)
    coverage.push(inner)
    try:
        api = MockAPI(seed=1)
        task_id = api.handle(create_request()).json_body()["id"]
        api.run_until_idle()
        api.handle(task_request(task_id))
    finally:
        coverage.pop(inner)
        coverage.pop(outer)
    assert inner.counts["task states"] == {"pending": 1, "completed": 1}
    assert not outer.used
    assert coverage.current() is not inner
