"""The rules on hand-made probes: each judged alone, without a server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from sora_mock.checker import (
    CheckOptions,
    CheckResult,
    Expectation,
    Ledger,
    Probe,
    TaskHistory,
    check_exchange,
    check_probe,
    curl_command,
    json_report,
    junit_xml,
    render_failures,
)
from sora_mock.contract import Request, Response
from sora_mock.engine import Exchange
from sora_mock.inprocess import MockAPI
from tests.helpers import PENDING_TASK, create_request

TASK = PENDING_TASK
RESULT = {"character_name": "chr_a", "profile_picture_url": "https://e.com/p.png"}
GET = Request.build("GET", f"/v1/tasks/{TASK['id']}", headers={"authorization": "Bearer sk-1"})


def probe(body: Any, status: int = 200, request: Request = GET, headers: Any = ()) -> Probe:
    return Probe.answered("test", Exchange(request, Response.json(status, body, headers)))


def history_of(*bodies: dict[str, Any]) -> Ledger:
    ledger, history = Ledger(), TaskHistory(TASK["id"])
    for body in bodies:
        history.observe(ledger, probe(body))
    return ledger


def processing(progress: int) -> dict[str, Any]:
    return {**TASK, "status": "processing", "progress": progress}


def completed() -> dict[str, Any]:
    info = {**TASK["task_info"], "can_cancel": False}
    return {
        **TASK,
        "status": "completed",
        "progress": 100,
        "task_info": info,
        "result_data": RESULT,
        "results": [RESULT["profile_picture_url"]],
    }


def failed(progress: int) -> dict[str, Any]:
    error = {"code": "service_error", "message": "m", "type": "task_error"}
    return {**TASK, "status": "failed", "progress": progress, "error": error}


def test_a_forward_lifecycle_breaks_nothing() -> None:
    ledger = history_of(TASK, processing(10), processing(60), completed(), completed())
    assert ledger.findings == []
    assert ledger.checked["terminal_sticky"] == 1
    assert ledger.checked["lifecycle_monotonic"] == 4


def test_lifecycle_rules() -> None:
    assert history_of(TASK, processing(50), processing(40)).failed_rules() == {
        "lifecycle_monotonic"
    }
    assert history_of(processing(5), TASK).failed_rules() == {"lifecycle_monotonic"}
    assert history_of(TASK, completed(), failed(100)).failed_rules() == {"terminal_sticky"}
    assert history_of(TASK, completed(), processing(99)).failed_rules() == {
        "terminal_sticky",
        "lifecycle_monotonic",
    }


def test_a_failure_dropping_progress_to_zero_is_a_warning_but_other_drops_fail() -> None:
    ledger = history_of(TASK, processing(70), failed(0))
    assert ledger.failures == []
    assert [w.rule for w in ledger.warnings] == ["lifecycle_monotonic"]
    assert history_of(TASK, processing(70), failed(30)).failed_rules() == {"lifecycle_monotonic"}


def test_result_error_id_and_consistency_rules() -> None:
    assert history_of({**TASK, "result_data": RESULT}).failed_rules() == {"result_iff_completed"}
    no_result = {k: v for k, v in completed().items() if k != "result_data"}
    assert history_of(no_result).failed_rules() == {"result_iff_completed"}
    assert history_of({**TASK, "error": failed(0)["error"]}).failed_rules() == {"error_iff_failed"}
    assert history_of({k: v for k, v in failed(0).items() if k != "error"}).failed_rules() == {
        "error_iff_failed"
    }
    assert history_of({**TASK, "id": "task-1"}).failed_rules() == {"id_shape"}
    # The schema picks a model's task schema by the model field: an unknown one is reported.
    assert history_of({**TASK, "model": "no-such-model"}).failed_rules() == {"response_schema"}
    drifted = history_of(TASK, {**processing(5), "created": 5})
    assert drifted.failed_rules() == {"task_consistency"}
    assert [w.rule for w in drifted.warnings] == ["id_shape"]  # the id no longer embeds it


def test_status_expectations_name_the_right_rule() -> None:
    envelope = {
        "error": {"code": "invalid_request", "message": "m", "type": "invalid_request_error"}
    }
    post = Request.build("POST", "/v1/videos/generations", headers={"authorization": "Bearer x"})
    cases = [
        (Expectation(400, kind="negative"), probe(TASK, 200, post), "negative_rejected"),
        (Expectation(401, kind="auth"), probe(envelope, 400, post), "auth_required"),
        (Expectation(403, kind="isolation"), probe(TASK), "token_isolation"),
        (Expectation(200, kind="positive"), probe(envelope, 400, post), "positive_accepted"),
        (Expectation(200, kind="positive"), probe(TASK, 201, post), "status_code_conformance"),
    ]
    for expected, seen, rule in cases:
        ledger = Ledger()
        check_probe(ledger, seen, expected)
        assert rule in ledger.failed_rules(), (expected, ledger.findings)


def test_envelope_param_is_checked_and_an_absent_param_only_warns() -> None:
    post = Request.build("POST", "/v1/videos/generations", headers={"authorization": "Bearer x"})
    error = {"code": "invalid_request", "message": "m", "type": "invalid_request_error"}
    wrong, absent = Ledger(), Ledger()
    expected = Expectation(400, "invalid_request", "video_url", kind="negative")
    check_probe(wrong, probe({"error": {**error, "param": "model"}}, 400, post), expected)
    check_probe(absent, probe({"error": error}, 400, post), expected)
    assert wrong.failed_rules() == {"error_envelope"}
    assert absent.failures == []
    assert [w.rule for w in absent.warnings] == ["error_envelope"]


def test_a_429_needs_retry_after_and_a_dropped_connection_is_a_server_error() -> None:
    limited = {"error": {"code": "rate_limit_exceeded", "message": "m", "type": "evo_api_error"}}
    ledger = Ledger()
    check_probe(ledger, probe(limited, 429))
    assert "retry_after" in ledger.failed_rules()
    ledger = Ledger()
    check_probe(ledger, probe(limited, 429, headers=[("retry-after", "7")]))
    assert ledger.failures == []
    ledger = Ledger()  # a date is valid HTTP, but the contract asks for whole seconds
    dated = [("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]
    check_probe(ledger, probe(limited, 429, headers=dated))
    assert "retry_after" in ledger.failed_rules()
    ledger = Ledger()
    check_probe(ledger, Probe.unanswered("x", GET, "ConnectError: refused"))
    assert ledger.failed_rules() == {"no_5xx"}


def _result(ledger: Ledger) -> CheckResult:
    options = CheckOptions(token="sk-secret-token-123")
    return CheckResult("http://127.0.0.1:9", options, 1, ledger)


def test_reports_mask_the_token_and_survive_binary_bodies() -> None:
    body = b"\xff\x00'{"
    request = Request.build(
        "POST",
        "/v1/videos/generations",
        headers={"authorization": "Bearer sk-secret-token-123", "content-type": "text/plain"},
        body=body,
    )
    ledger = Ledger()
    crash = Response(500, (("content-type", "text/plain"),), b"boom \x00 sk-secret-token-123")
    check_probe(ledger, Probe.answered("crash", Exchange(request, crash)))
    result = _result(ledger)
    text = render_failures(result) + junit_xml(result) + json.dumps(json_report(result))
    assert "sk-secret-token-123" not in text
    assert "$SORA_TOKEN" in text
    ET.fromstring(junit_xml(result).split("\n", 1)[1])  # well-formed despite the NUL byte
    curl = curl_command(request, result.base_url, {"sk-secret-token-123": "SORA_TOKEN"})
    assert curl.endswith("--data-binary $'\\xff\\x00\\x27{'")
    assert '-H "Authorization: Bearer $SORA_TOKEN"' in curl


def test_the_rules_judge_an_in_process_call_as_they_judge_a_probe() -> None:
    api = MockAPI(seed=1)
    ledger = Ledger()
    api.handle(create_request())
    check_exchange(ledger, api.calls.last, Expectation(200, kind="positive"), label="valid")
    assert ledger.findings == []
    assert ledger.checked["positive_accepted"] == 1
    history = TaskHistory(api.calls.last.task_id or "")
    history.observe(ledger, Probe.answered("created", api.calls.last))
    assert history.last is not None
    assert history.last["status"] == "pending"

    api.handle(create_request(headers={"content-type": "application/json"}))  # no token
    check_exchange(ledger, api.calls.last, Expectation(200, kind="positive"), label="no token")
    found = [(f.rule, f.probe.label if f.probe else None) for f in ledger.failures]
    assert found == [("positive_accepted", "no token")]
    assert ledger.failures[0].probe is not None
    assert ledger.failures[0].probe.exchange is api.calls.last


def test_a_probe_names_its_request_and_answer_or_why_there_is_none() -> None:
    answered = Probe.answered("poll", Exchange(GET, Response.json(200, TASK)))
    assert (answered.request, answered.response, answered.error) == (
        GET,
        answered.exchange.response if answered.exchange else None,
        None,
    )
    assert answered.json() == TASK
    lost = Probe.unanswered("poll", GET, "ReadTimeout: timed out")
    assert (lost.exchange, lost.response, lost.json()) == (None, None, None)
    assert lost.error == "ReadTimeout: timed out"
