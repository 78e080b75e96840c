"""Unusual-but-valid bodies, the report formats and the pytest helper."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given

from sora_mock.conformance import (
    ConformanceReport,
    Harness,
    catalogue,
    check_client,
    conformance_tests,
)
from sora_mock.conformance.masking import mask_authorization
from sora_mock.conformance.recording import build_engine
from sora_mock.conformance.variations import (
    NumberSlot,
    Variation,
    body_shape,
    fixed_variations,
    variations,
)
from sora_mock.contract import Contract
from sora_mock.engine import MockConfig, VirtualClock
from sora_mock.errors import ConformanceFailure
from tests.conformance_clients import (
    EXAMPLES,
    OWN_KEY,
    FailedIsDone,
    leaks_its_own_key,
    naive,
    polite,
    runner,
)
from tests.helpers import auth, create_request, task_request

CONTRACT = Contract.bundled()
CONFIG = MockConfig.defaults()
SUCCESS = next(s for s in catalogue(CONTRACT) if s.name == "success")
FAILED = next(s for s in catalogue(CONTRACT) if s.name == "fail-service_error")


def test_the_optional_fields_come_from_the_spec() -> None:
    shape = body_shape(CONTRACT)
    assert set(shape.optional) == {"results", "task_info.video_duration", "usage.user_group"}
    assert set(shape.objects) == {"", "task_info", "usage", "result_data", "error"}
    assert fixed_variations(CONTRACT)["optional-fields-absent"].drop == shape.optional
    assert shape.numbers == (
        NumberSlot("estimated_time", "task_info.estimated_time", 0),
        NumberSlot("video_duration", "task_info.video_duration", 0),
    )


def test_each_model_has_its_own_task_shape() -> None:
    shape = body_shape(CONTRACT, "sora-2-preview")
    assert "result_data" not in shape.objects
    assert set(shape.objects) == {"", "task_info", "usage", "error"}
    assert [slot.name for slot in shape.numbers] == ["estimated_time", "video_duration"]


@given(variations(CONTRACT))
def test_every_generated_variation_stays_valid_against_the_spec(variation: Variation) -> None:
    validator = CONTRACT.response_validators[(CONTRACT.tasks.read.operation_id, 200)]
    for situation in (SUCCESS, FAILED):
        clock = VirtualClock()
        engine = build_engine(
            situation, contract=CONTRACT, config=CONFIG, clock=clock, speed=1.0, variation=variation
        )
        task = engine.handle(create_request()).json_body()
        for _ in range(3):
            clock.advance(75)
            body = engine.handle(task_request(task["id"])).json_body()
            errors = [e.message for e in validator.iter_errors(body)]
            assert not errors, (variation, body, errors)
            for change in variation.values:
                holder, name = change.where.rsplit(".", 1)
                if change.where not in variation.drop:
                    assert body[holder][name] == change.value
            for path in variation.drop:
                *parent, name = path.split(".")
                holder = body[parent[0]] if parent else body
                assert name not in holder


def test_an_instant_variation_completes_at_the_first_read() -> None:
    engine = build_engine(
        SUCCESS,
        contract=CONTRACT,
        config=CONFIG,
        clock=VirtualClock(),
        speed=1.0,
        variation=Variation(instant=True, extra=(("usage", "tier", '"gold"'),)),
    )
    task = engine.handle(create_request()).json_body()
    assert task["usage"]["tier"] == "gold"  # the create answer carries the variation too
    body = engine.handle(task_request(task["id"])).json_body()
    assert body["status"] == "completed"
    assert body["usage"]["tier"] == "gold"
    assert engine.exchanges[-1].scenario == "conformance-success"
    assert auth()["authorization"].startswith("Bearer ")


@pytest.fixture(scope="module")
def report() -> ConformanceReport:
    situations = ["success", "poll-unauthorized", "fail-content_policy_violation"]
    return Harness(time_limit=200, examples=0).check(naive.conformance_client, situations)


def test_the_text_report_is_a_table_then_the_broken_rules(report: ConformanceReport) -> None:
    text = report.to_text()
    header = next(line for line in text.splitlines() if line.startswith("situation"))
    assert header.split() == [
        "situation",
        "valid",
        "token",
        "interval",
        "retry-after",
        "terminal",
        "give-up",
        "no-retry",
        "outcome",
    ]
    row = next(line for line in text.splitlines() if line.startswith("poll-unauthorized"))
    assert row.split() == ["poll-unauthorized", "ok", "ok", "FAIL", "-", "-", "FAIL", "FAIL", "-"]
    assert "What the client does wrong" in text
    assert text.index("\npoll-interval:") < text.index("\ngive-up-bound:")


def test_the_json_report_holds_every_request(report: ConformanceReport) -> None:
    data = json.loads(report.to_json())
    assert data["passed"] is False
    assert data["broken"]["outcome"] == ["fail-content_policy_violation"]
    situation = data["situations"][1]
    assert situation["name"] == "poll-unauthorized"
    assert situation["token"] == "sk-c…ed"
    assert situation["stopped"] == "still running after 200 s"
    assert situation["requests"][0]["method"] == "POST"
    assert situation["requests"][1]["status"] == 401
    assert len(situation["requests"]) == len(report.result("poll-unauthorized").run.exchanges)


def test_the_junit_report_has_a_case_per_situation_and_rule(report: ConformanceReport) -> None:
    root = ElementTree.fromstring(report.to_junit())
    cases = root.findall(".//testcase")
    assert len(cases) == 3 * 8
    failed = [c for c in cases if c.find("failure") is not None]
    assert (
        int(root.get("failures", "0"))
        == len(failed)
        == sum(len(r.failures) for r in report.results)
    )
    case = next(
        c
        for c in failed
        if c.get("classname") == "conformance.poll-unauthorized"
        and c.get("name") == "no-futile-retry"
    )
    failure = case.find("failure")
    assert failure is not None
    assert "cannot succeed" in (failure.text or "")


def test_a_situation_failure_raises_an_assertion_with_the_evidence(
    report: ConformanceReport,
) -> None:
    with pytest.raises(ConformanceFailure) as caught:
        report.result("poll-unauthorized").raise_for_failures()
    assert isinstance(caught.value, AssertionError)
    assert "BROKEN no-futile-retry" in str(caught.value)
    report.result("success").run  # noqa: B018 - the passing one raises nothing below
    Harness(examples=0).check_situation(
        polite.conformance_client, report.result("success").situation
    ).raise_for_failures()


def test_the_pytest_helper_parametrizes_over_situations() -> None:
    test = conformance_tests(runner(FailedIsDone), ["success", "fail-*"])
    marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    assert marks
    assert len(marks[0].args[1]) == 17
    (success, *failures) = marks[0].args[1]
    test(success)
    with pytest.raises(ConformanceFailure, match="BROKEN outcome"):
        test(failures[0])


@pytest.mark.slow
def test_the_pytest_helper_makes_one_test_per_situation(tmp_path: Path) -> None:
    module = tmp_path / "test_my_client.py"
    module.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "from polite_client import conformance_client\n"
        "from naive_client import conformance_client as naive_client\n"
        "from sora_mock.conformance import conformance_tests\n"
        "test_polite = conformance_tests(conformance_client, ['success', 'create-*'])\n"
        "test_naive = conformance_tests(naive_client, ['fail-service_error'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 failed, 12 passed" in out.stdout, out.stdout + out.stderr
    assert "test_naive[fail-service_error]" in out.stdout
    assert "BROKEN poll-interval" in out.stdout
    assert "BROKEN outcome" in out.stdout


def test_a_real_key_the_client_sends_and_prints_stays_out_of_every_report() -> None:
    key = OWN_KEY
    report = check_client(leaks_its_own_key, ["success"])
    assert not report.passed
    for shown in (report.to_text(details=0), report.to_json(), report.to_junit()):
        assert key not in shown
        assert f"{key[:4]}…{key[-2:]}" in shown
    with pytest.raises(ConformanceFailure) as failed:
        report.results[0].raise_for_failures()
    assert key not in str(failed.value)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("Bearer sk-real-secret-123456", "Bearer sk-r…56"),
        ("  bearer   sk-real-secret-123456 ", "bearer sk-r…56"),
        ("Basic dXNlcjpwYXNzd29yZA==", "Basi…=="),
        ("short", "***"),
    ],
)
def test_an_authorization_value_is_masked_with_its_bearer_scheme_kept(
    value: str, masked: str
) -> None:
    assert mask_authorization(value) == masked
