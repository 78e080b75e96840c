"""Each conformance rule on small clients that break it in one place, and the outcomes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sora_mock.conformance import (
    Harness,
    Outcome,
    Run,
    Settings,
    Target,
    catalogue,
    rules,
    select,
)
from sora_mock.contract import Contract, Request, Response
from sora_mock.engine import Exchange, JournalEntry
from sora_mock.errors import UsageError

CREATE = "/v1/videos/generations"
BODY = {"model": "sora-character", "video_url": "https://example.com/v.mp4"}


def auth(target: Target, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or target.api_key}"}


def wait_for(target: Target, task_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll every 2 s until the task ends."""
    while True:
        time.sleep(2)
        task: dict[str, Any] = target.http.get(f"/v1/tasks/{task_id}", headers=headers).json()
        if task["status"] in ("completed", "failed"):
            return task


def tidy(target: Target) -> dict[str, Any]:
    """A minimal correct client, for the one-fault variants below."""
    headers = auth(target)
    task = target.http.post(CREATE, json=BODY, headers=headers).json()
    done = wait_for(target, task["id"], headers)
    return {"status": "completed", "character_name": done["result_data"]["character_name"]}


def check(client: Any, situation: str = "success", **options: Any) -> Any:
    return Harness(examples=0, **options).check(client, [situation]).result(situation)


def test_a_tidy_client_keeps_every_rule() -> None:
    result = check(tidy)
    assert result.passed, result.describe()


def test_valid_requests_flags_a_body_the_spec_refuses() -> None:
    def client(target: Target) -> Any:
        body = {**BODY, "video_url": "https://example.com/v.avi", "timestamps": "0,5"}
        target.http.post(CREATE, json=body, headers=auth(target))
        return tidy(target)

    verdict = check(client).verdict("valid-requests")
    assert verdict.failed
    assert "video_url must point to a .mp4, .mov or .webm file" in verdict.message
    assert any("POST /v1/videos/generations -> 400" in line for line in verdict.evidence)


@pytest.mark.parametrize(
    ("send", "problem"),
    [
        ({"content": json.dumps(BODY), "headers": {"Content-Type": "text/plain"}}, "Content-Type"),
        ({"content": "{not json", "headers": {"Content-Type": "application/json"}}, "not JSON"),
        (
            {"json": {"video_url": BODY["video_url"]}},
            "model: expected a required field, got nothing",
        ),
    ],
)
def test_valid_requests_names_the_problem(send: dict[str, Any], problem: str) -> None:
    def client(target: Target) -> Any:
        headers = {**auth(target), **send.pop("headers", {})}
        target.http.post(CREATE, headers=headers, **send)
        return tidy(target)

    assert problem in check(client).verdict("valid-requests").message


def test_valid_requests_flags_a_route_the_api_does_not_have() -> None:
    def client(target: Target) -> Any:
        target.http.get("/v1/task/abc", headers=auth(target))
        return tidy(target)

    message = check(client).verdict("valid-requests").message
    assert "GET /v1/task/abc is not an operation of the API" in message


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "no Authorization header"),
        ({"Authorization": "Basic c2stb3RoZXI="}, "not a bearer token"),
        ({"Authorization": "Bearer sk-someone-else-entirely"}, "a different token (sk-s…ly)"),
    ],
)
def test_bearer_token_flags_each_wrong_header(headers: dict[str, str], problem: str) -> None:
    def client(target: Target) -> Any:
        target.http.post(CREATE, json=BODY, headers=headers)
        return tidy(target)

    verdict = check(client).verdict("bearer-token")
    assert verdict.failed
    assert "1 of " in verdict.message
    assert problem in verdict.message


def test_stops_at_terminal_flags_a_poll_after_the_end() -> None:
    def client(target: Target) -> Any:
        outcome = tidy(target)
        tasks = target.http.get("/__mock/tasks").json()["tasks"]  # admin route: not judged
        time.sleep(2)
        target.http.get(f"/v1/tasks/{tasks[0]['id']}", headers=auth(target))
        return outcome

    result = check(client)
    assert [v.rule for v in result.failures] == ["stops-at-terminal"]
    assert "polled again after it was completed" in "\n".join(result.failures[0].evidence)


def test_outcome_wants_the_name_of_the_task_it_saw_completed() -> None:
    result = check(lambda target: {**tidy(target), "character_name": "chr_made_up"})
    assert "reported character_name 'chr_made_up', but the task made chr_" in (
        result.verdict("outcome").message
    )
    lazy = check(lambda target: {"status": "completed"})
    assert "never saw a task completed" in lazy.verdict("outcome").message


def test_a_client_that_never_sleeps_is_stopped_by_the_request_cap() -> None:
    def client(target: Target) -> Any:
        task = target.http.post(CREATE, json=BODY, headers=auth(target)).json()
        while True:
            target.http.get(f"/v1/tasks/{task['id']}", headers=auth(target))

    result = check(client, max_requests=40)
    assert result.run.stopped == "still running after 40 requests"
    assert len(result.run.exchanges) == 40
    assert {v.rule for v in result.failures} == {"poll-interval", "give-up-bound"}


def test_a_stopped_client_cannot_swallow_the_stop() -> None:
    def client(target: Target) -> Any:
        try:
            while True:
                time.sleep(60)
        except Exception:  # a retry loop's usual net does not catch the harness's stop
            return {"status": "completed"}

    result = check(client, time_limit=300)
    assert result.run.stopped == "still running after 300 s"
    assert result.run.outcome.status == "stopped"


def test_virtual_time_covers_monotonic_and_wall_clocks_then_goes_away() -> None:
    real_sleep = time.sleep
    seen: dict[str, float] = {}

    def client(target: Target) -> Any:
        start_wall, start_mono = time.time(), time.monotonic()
        outcome = tidy(target)
        seen["wall"], seen["mono"] = time.time() - start_wall, time.monotonic() - start_mono
        return outcome

    started = time.perf_counter()
    assert check(client).passed
    assert seen["wall"] == seen["mono"] >= 150  # the task's 150 s passed for the client...
    assert time.perf_counter() - started < 30  # ... in far less real time
    assert time.sleep is real_sleep


def test_an_async_client_runs_on_the_virtual_clock() -> None:
    import asyncio

    async def main(target: Target) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=target.base_url) as http:
            headers = auth(target)
            task = (await http.post(CREATE, json=BODY, headers=headers)).json()
            while task["status"] not in ("completed", "failed"):
                await asyncio.sleep(1.5)
                task = (await http.get(f"/v1/tasks/{task['id']}", headers=headers)).json()
        return {"status": task["status"], "character_name": task["result_data"]["character_name"]}

    result = check(lambda target: asyncio.run(main(target)))
    assert result.passed, result.describe()
    assert result.run.elapsed >= 150


def stdlib_client(target: Target) -> dict[str, Any]:
    """A client on urllib alone: the http transport serves any HTTP library."""
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**auth(target), "Content-Type": "application/json"}
        for _ in range(5):
            request = Request(target.base_url + path, data=data, headers=headers, method=method)
            try:
                with urlopen(request, timeout=10) as response:
                    answer: dict[str, Any] = json.loads(response.read())
                    return answer
            except HTTPError as exc:
                if exc.code < 500:
                    raise
                time.sleep(2)
        raise RuntimeError("gave up")

    task = call("POST", CREATE, BODY)
    while task["status"] not in ("completed", "failed"):
        time.sleep(2)
        task = call("GET", f"/v1/tasks/{task['id']}")
    return {"status": task["status"], "character_name": task["result_data"]["character_name"]}


def test_the_http_transport_serves_a_client_on_any_library() -> None:
    report = Harness(transport="http", examples=0).check(stdlib_client, ["success", "flaky-poll"])
    assert report.passed, report.to_text()
    assert report.result("flaky-poll").run.exchanges[1].response.status == 500
    failing = Harness(transport="http", examples=0).check(stdlib_client, ["fail-service_error"])
    assert failing.result("fail-service_error").verdict("outcome").failed  # KeyError: no code


# -- outcomes --------------------------------------------------------------------------------


def test_a_command_outcome_reads_the_last_json_line() -> None:
    line = '{"status": "error", "http_status": 402, "error_code": "insufficient_quota"}'
    outcome = Outcome.from_command(1, f"log line\n{line}\n\n", "")
    assert (outcome.status, outcome.http_status, outcome.error_code) == (
        "error",
        402,
        "insufficient_quota",
    )
    assert Outcome.from_command(0, "done\n", "").status == "completed"
    assert Outcome.from_command(3, "", "boom").status == "error"
    contradiction = Outcome.from_command(0, '{"status": "failed"}', "")
    assert contradiction.conflict == "exit code 0 contradicts the reported status 'failed'"


def test_an_exception_outcome_carries_its_codes() -> None:
    request = httpx.Request("GET", "http://x/v1/tasks/t")
    response = httpx.Response(403, request=request)
    error = httpx.HTTPStatusError("forbidden", request=request, response=response)
    assert Outcome.from_exception(error).http_status == 403

    class Failed(Exception):  # noqa: N818 - a client's own name
        error_code = "content_policy_violation"

    try:
        raise Failed("no")
    except Failed as exc:
        outcome = Outcome.from_exception(exc)
    assert outcome.error_code == "content_policy_violation"
    assert outcome.detail == "raised Failed: no"
    assert "test_rules.py" in outcome.text


def test_return_values_become_outcomes() -> None:
    assert Outcome.from_return("chr_x").values == {"result": "chr_x"}
    assert Outcome.from_return(None).status == "completed"
    assert Outcome.from_return({"status": "timeout"}).status == "timeout"
    reported = Outcome.from_return({"status": "completed", "character_name": "chr_x", "n": 3})
    assert reported.values == {"character_name": "chr_x"}
    assert reported.as_dict()["character_name"] == "chr_x"

    @dataclass
    class Done:
        status: str
        character_name: str

    assert Outcome.from_return(Done("completed", "chr_y")).values == {"character_name": "chr_y"}


def test_an_unknown_situation_pattern_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"no situation matches 'nope'.*known situations: success"):
        select(Harness().situations(), ["nope"])
    assert [s.name for s in select(Harness().situations(), ["fail-quota*", "slow"])] == [
        "slow",
        "fail-quota_exceeded",
    ]


def test_a_settings_file_that_refuses_unknown_tokens_still_accepts_the_harness_tokens() -> None:
    from sora_mock.engine import MockConfig

    strict = MockConfig.defaults().with_overrides({"auth": {"accept_unknown_tokens": False}})
    result = Harness(config=strict, examples=0).check(tidy, ["success"]).result("success")
    assert result.passed, result.describe()


def _limited_then_polled(retry_after: str, gap: float, speed: float) -> Run:
    """A run on a clock ``speed`` times fast: a 429 with ``retry_after``, a poll ``gap`` later."""
    start = 1_000_000.0
    path = "/v1/tasks/task-unified-1000000000-aaaaaaaa"
    exchanges = []
    for seq, (status, at) in enumerate([(429, start), (200, start + gap * speed)], 1):
        headers = [("retry-after", retry_after)] if status == 429 else []
        entry = JournalEntry(seq, at, "GET", path, "getTaskDetail", "sk-…", status)
        response = Response.json(status, {}, headers)
        exchanges.append(Exchange(Request.build("GET", path), response, entry))
    outcome = Outcome("completed")
    return Run(catalogue()[0], "sk-1", tuple(exchanges), outcome, speed, start, start + 10)


@pytest.mark.parametrize(
    ("retry_after", "gap", "status"),
    [
        ("2", 2.5, "pass"),
        ("2", 1.0, "fail"),
        # A date is on the mock's clock: 100 mock seconds ahead is 2 client seconds at 50x.
        ("Mon, 12 Jan 1970 13:48:20 GMT", 2.5, "pass"),
        ("Mon, 12 Jan 1970 13:48:20 GMT", 1.0, "fail"),
    ],
)
def test_retry_after_reads_seconds_and_dates(retry_after: str, gap: float, status: str) -> None:
    rule = next(r for r in rules() if r.id == "retry-after")
    run = _limited_then_polled(retry_after, gap, speed=50.0)
    assert rule.check(run, Settings(Contract.bundled())).status == status
