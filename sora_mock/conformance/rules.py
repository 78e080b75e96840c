"""The rules a client must keep, checked from what it sent (the journal) and reported.

Each rule looks at one :class:`Run` and gives a :class:`Verdict`: ``pass``, ``fail`` with a
message and the requests that show it, or ``n/a`` when the run never put the rule to the
test (no 429 was served, say). Times are in the client's seconds: mock seconds divided by
the clock speed of the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from sora_mock.conformance.outcome import outcome_problem
from sora_mock.conformance.run import Run, Settings
from sora_mock.conformance.situations import FUTILE_STATUSES
from sora_mock.contract import Contract, Request, RequestCheck, parse_retry_after
from sora_mock.engine import MOCK_PREFIX, TERMINAL, Exchange, mask_token

Status = Literal["pass", "fail", "n/a"]


@dataclass(frozen=True)
class Verdict:
    """A rule's judgement of one run; ``marks`` says why each request that breaks it does
    (by its index in the run's exchanges)."""

    rule: str
    status: Status
    message: str = ""
    evidence: tuple[str, ...] = ()
    marks: Mapping[int, str] = field(default_factory=dict, compare=False)

    @classmethod
    def broken(cls, rule: str, message: str, run: Run, marks: Mapping[int, str]) -> Verdict:
        """``rule`` broken in ``run``: its timeline as evidence, ``marks`` on the requests."""
        return cls(rule, "fail", message, run.timeline(marks), marks)

    @property
    def failed(self) -> bool:
        """True for a broken rule."""
        return self.status == "fail"


@dataclass(frozen=True)
class Rule:
    """A rule: its id, a column title, what it asks, and its check."""

    id: str
    title: str
    description: str
    check: Callable[[Run, Settings], Verdict]


def _valid_requests(run: Run, settings: Settings) -> Verdict:
    marks: dict[int, str] = {}
    found: list[str] = []
    cache: dict[tuple[str, str, str, bytes], list[str]] = {}
    for index, exchange in run.api_exchanges:
        request = exchange.request
        key = (
            request.method,
            "task" if exchange.is_poll else request.path,
            request.headers.get("content-type", ""),
            request.body,
        )
        if key not in cache:
            cache[key] = request_problems(request, settings.contract)
        if cache[key]:
            marks[index] = cache[key][0]
            found += [p for p in cache[key] if p not in found]
    if not marks:
        return Verdict("valid-requests", "pass", f"{len(run.api_exchanges)} requests, all valid")
    return Verdict.broken(
        "valid-requests",
        f"{len(marks)} request(s) break the spec: {'; '.join(found[:3])}",
        run,
        marks,
    )


def request_problems(request: Request, contract: Contract) -> list[str]:
    """Each way ``request`` breaks the spec (authentication aside: another rule's job)."""
    if request.path.startswith(MOCK_PREFIX):
        return []  # the mock's own routes (spec/mock-admin.yaml), e.g. a served file
    match = contract.match(request.method, request.path)
    if match.operation is None:
        allowed = f" (the path takes {', '.join(match.allowed)})" if match.allowed else ""
        return [f"{request.method} {request.path} is not an operation of the API{allowed}"]
    if not match.operation.has_body:
        return []
    problems = []
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        problems.append(f"Content-Type must be application/json, got {content_type or 'none'}")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        return [*problems, f"the body is not JSON ({exc})"]
    if not isinstance(body, dict):
        return [*problems, "the body must be a JSON object"]
    if match.operation is contract.tasks.create:
        # The model, its schema and the rules the spec adds, as the mock itself checks them.
        found = request_check(contract).problem(body, allow_loopback=False)
        return [*problems, found.message] if found is not None else problems
    validator = contract.request_validators.get(match.operation.operation_id)
    for error in validator.iter_errors(body) if validator is not None else ():
        where = "/".join(str(p) for p in error.instance_path) or "(body)"
        problems.append(f"{where}: {error.message}")
    return problems


@cache
def request_check(contract: Contract) -> RequestCheck:
    """The (cached) create-body check of ``contract``."""
    return RequestCheck(contract)


def _bearer_token(run: Run, settings: Settings) -> Verdict:
    marks: dict[int, str] = {}
    for index, exchange in run.api_exchanges:
        header = exchange.request.headers.get("authorization")
        scheme, _, token = (header or "").strip().partition(" ")
        if header is None:
            marks[index] = "no Authorization header"
        elif scheme.lower() != "bearer" or not token.strip():
            marks[index] = f"Authorization is not a bearer token ({scheme or 'empty'} …)"
        elif token.strip() != run.token:
            marks[index] = f"a different token ({mask_token(token.strip())})"
    if not run.api_exchanges:
        return Verdict("bearer-token", "n/a", "the client sent no request")
    if not marks:
        return Verdict("bearer-token", "pass", "every request carries the bearer token")
    first = marks[min(marks)]
    return Verdict.broken(
        "bearer-token",
        f"{len(marks)} of {len(run.api_exchanges)} requests lack the bearer token: {first}",
        run,
        marks,
    )


def _poll_interval(run: Run, settings: Settings) -> Verdict:
    last: dict[str, Exchange] = {}
    marks: dict[int, str] = {}
    gaps: list[float] = []
    polls = 0
    for index, exchange in run.api_exchanges:
        task = exchange.task_id
        if task is None:
            continue
        if exchange.is_poll:
            polls += 1
            if task in last:
                gap = run.seconds(last[task], exchange)
                gaps.append(gap)
                if gap < settings.min_interval - settings.tolerance:
                    marks[index] = f"{gap:.2f} s after the previous request for this task"
        last[task] = exchange
    minimum = f"{settings.min_interval:g} s"
    if not gaps:
        return Verdict("poll-interval", "n/a", "no task was polled")
    if not marks:
        return Verdict("poll-interval", "pass", f"{polls} polls, shortest gap {min(gaps):.2f} s")
    return Verdict.broken(
        "poll-interval",
        f"{len(marks)} of {polls} polls came sooner than {minimum} after the previous "
        f"request for the task (shortest {min(gaps):.2f} s)",
        run,
        marks,
    )


def _retry_after(run: Run, settings: Settings) -> Verdict:
    marks: dict[int, str] = {}
    limited = 0
    api = run.api_exchanges
    for position, (_, exchange) in enumerate(api):
        if exchange.response.status != 429:
            continue
        limited += 1
        wait = retry_wait(run, exchange)
        if wait is None or position + 1 >= len(api):
            continue
        index, following = api[position + 1]
        gap = run.seconds(exchange, following)
        if gap < wait - settings.tolerance:
            marks[index] = f"{gap:.2f} s after a 429 with Retry-After: {wait:g}"
    if not limited:
        return Verdict("retry-after", "n/a", "no 429 was served")
    if not marks:
        return Verdict("retry-after", "pass", f"waited as told after {limited} 429 answer(s)")
    return Verdict.broken(
        "retry-after",
        f"{len(marks)} of {limited} 429 answers were not waited out",
        run,
        marks,
    )


def retry_wait(run: Run, exchange: Exchange) -> float | None:
    """The client seconds ``exchange``'s ``Retry-After`` asked to wait, if it asked."""
    asked = parse_retry_after(exchange.response.header("retry-after"))
    if asked is None:
        return None
    wait = asked.wait(now=exchange.time)
    # A date is on the mock's clock; delta-seconds are the client's.
    return wait / run.speed if asked.at is not None else wait


def _stops_at_terminal(run: Run, settings: Settings) -> Verdict:
    ended: dict[str, str] = {}
    marks: dict[int, str] = {}
    for index, exchange in run.api_exchanges:
        task = exchange.task_id
        if not exchange.is_poll or task is None:
            continue
        if task in ended:
            marks[index] = f"polled again after it was {ended[task]}"
            continue
        status = exchange.task_status
        if status in TERMINAL:
            ended[task] = status
    if not ended:
        return Verdict("stops-at-terminal", "n/a", "no task reached a terminal state")
    if not marks:
        return Verdict("stops-at-terminal", "pass", "stopped polling at the terminal state")
    return Verdict.broken(
        "stops-at-terminal",
        f"{len(marks)} poll(s) after the task was completed or failed",
        run,
        marks,
    )


def _give_up_bound(run: Run, settings: Settings) -> Verdict:
    polls = sum(1 for _, e in run.api_exchanges if e.is_poll)
    if run.stopped is not None:
        marks = {len(run.exchanges) - 1: "the last request"} if run.exchanges else {}
        return Verdict.broken(
            "give-up-bound",
            f"{run.stopped}; the harness stopped the client ({polls} polls)",
            run,
            marks,
        )
    if run.situation.never_ends:
        return Verdict(
            "give-up-bound", "pass", f"gave up after {run.elapsed:.1f} s and {polls} polls"
        )
    return Verdict("give-up-bound", "pass", f"returned after {run.elapsed:.1f} s")


def _no_futile_retry(run: Run, settings: Settings) -> Verdict:
    refused: dict[tuple[str, str | None], Exchange] = {}
    marks: dict[int, str] = {}
    for index, exchange in run.api_exchanges:
        if not (exchange.is_create or exchange.is_poll):
            continue
        key = ("create", None) if exchange.is_create else ("poll", exchange.task_id)
        if key in refused:
            first = refused[key]
            marks[index] = (
                f"sent again after {first.response.status} {_code(first)}, which cannot succeed"
            )
        elif exchange.response.status in FUTILE_STATUSES:
            refused[key] = exchange
    if not refused:
        return Verdict("no-futile-retry", "n/a", "no 400, 401, 402, 403 or 413 was served")
    if not marks:
        return Verdict("no-futile-retry", "pass", "did not repeat a request that cannot succeed")
    return Verdict.broken(
        "no-futile-retry",
        f"repeated {len(marks)} request(s) that cannot succeed",
        run,
        marks,
    )


def _code(exchange: Exchange) -> str:
    body = exchange.json()
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _outcome(run: Run, settings: Settings) -> Verdict:
    said = run.outcome.detail or run.outcome.status
    if run.stopped is not None:
        return Verdict("outcome", "n/a", "not checked: the harness stopped the client")
    completed = {e.task_id for _, e in run.api_exchanges if e.task_status == "completed"}
    seen = {task: made for task, made in run.made.items() if task in completed}
    problem = outcome_problem(run.outcome, run.situation, seen)
    if problem is None:
        return Verdict("outcome", "pass", f"reported {run.outcome.status} ({said})")
    evidence = (f"  the client: {said}", f"  expected: {run.situation.expected()}")
    tail = tuple(line for line in run.outcome.text.strip().splitlines()[-4:] if line.strip())
    return Verdict(
        "outcome",
        "fail",
        problem,
        evidence + tuple(f"  | {line}" for line in tail) + run.timeline({}),
    )


def rules(min_interval: float = 1.0) -> tuple[Rule, ...]:
    """Every rule, in report order (descriptions use ``min_interval``)."""
    return (
        Rule(
            "valid-requests",
            "valid",
            "Every request is valid against the spec: a documented operation, JSON body "
            "matching the request schema of its model and the rules the spec adds to it.",
            _valid_requests,
        ),
        Rule(
            "bearer-token",
            "token",
            "Every request carries 'Authorization: Bearer <the token it was given>'.",
            _bearer_token,
        ),
        Rule(
            "poll-interval",
            "interval",
            f"No poll comes sooner than {min_interval:g} s after the previous request for "
            "the same task (the vendor advises 1-2 s).",
            _poll_interval,
        ),
        Rule(
            "retry-after",
            "retry-after",
            "After a 429, the next request waits at least the Retry-After seconds.",
            _retry_after,
        ),
        Rule(
            "stops-at-terminal",
            "terminal",
            "Polling stops once the task is completed or failed.",
            _stops_at_terminal,
        ),
        Rule(
            "give-up-bound",
            "give-up",
            "The client returns within the time limit: it gives up on a task that never "
            "ends and on errors that never stop.",
            _give_up_bound,
        ),
        Rule(
            "no-futile-retry",
            "no-retry",
            "A request answered 400, 401, 402, 403 or 413 is not sent again: it cannot succeed.",
            _no_futile_retry,
        ),
        Rule(
            "outcome",
            "outcome",
            "The reported outcome matches the situation: success on completion (with values "
            "the task made, when it reports any), a failure carrying the failure code, an "
            "error on an error.",
            _outcome,
        ),
    )


def check(
    run: Run, settings: Settings, chosen: Sequence[Rule] | None = None
) -> tuple[Verdict, ...]:
    """Every rule's verdict on ``run``."""
    return tuple(rule.check(run, settings) for rule in chosen or rules(settings.min_interval))
