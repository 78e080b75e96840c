"""The contract checker: drives any server of a contract's task API over HTTP and judges
every answer.

It creates one task of each model the contract documents, sends authentication probes,
labelled invalid requests (each with the error the contract prescribes), malformed and
unknown task ids, spends the rest of its budget of valid creates, then polls the created
tasks to the end, judging each probe with :mod:`sora_mock.checker.rules`. Requests come
from the contract's strategies (grouped by :mod:`sora_mock.checker.cases`) through
Hypothesis: first the simplest example of each group (so every field and kind is tried,
readably, documented examples first), then ``max_examples`` more shared among the groups.

It is polite: a 429 is retried after its ``Retry-After``, polls are ``poll_interval`` apart,
and at most ``max_tasks`` tasks are created (each may cost credits on the real API). Time is
injectable (``sleep``, ``clock``), so an in-process run on a virtual clock waits for nothing.

Example::

    with httpx.Client(base_url="http://127.0.0.1:8000") as client:
        result = Checker(client, CheckOptions(token="sk-..."), Contract.load(paths)).run()
    result.ok, result.ledger.failures
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sora_mock.checker.cases import RequestCases, error_code
from sora_mock.checker.rules import (
    Expectation,
    Ledger,
    Probe,
    TaskHistory,
    TaskShape,
    check_probe,
)
from sora_mock.contract import Contract, Request, Response, parse_retry_after
from sora_mock.errors import UnreachableError, UsageError

if TYPE_CHECKING:
    import httpx
    from hypothesis.strategies import SearchStrategy

    from sora_mock.contract.strategies import InvalidCreate, TaskIdCase

__all__ = ["CheckOptions", "CheckResult", "Checker", "run_check", "send_probe"]

_T = TypeVar("_T")
_OWN_TOKEN = object()  # "send the run's own token"


@dataclass(frozen=True)
class CheckOptions:
    """How a check run behaves. Times are seconds of the injected clock."""

    token: str
    other_token: str | None = None
    max_examples: int = 25
    seed: int | None = None
    timeout: float = 600.0
    max_tasks: int = 3
    poll_interval: float = 2.0
    request_timeout: float = 30.0
    ignore: frozenset[str] = frozenset()
    retries: int = 3
    max_retry_wait: float = 60.0

    def __post_init__(self) -> None:
        if not self.token:
            raise UsageError("a token is required")
        if self.max_examples < 0 or self.max_tasks < 0:
            raise UsageError("max_examples and max_tasks must not be negative")
        if self.timeout <= 0 or self.poll_interval < 0 or self.request_timeout <= 0:
            raise UsageError("timeouts must be positive and the poll interval not negative")


@dataclass
class CheckResult:
    """What a run did and found."""

    base_url: str
    options: CheckOptions
    seed: int
    ledger: Ledger
    exchanges: int = 0
    examples: int = 0
    rate_limited: int = 0
    duration: float = 0.0
    started_at: float = field(default_factory=time.time)  # unix time, for reports
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no rule failed (warnings allowed)."""
        return not self.ledger.failures

    @property
    def first_failure_at(self) -> float | None:
        """Seconds from the start to the first failure, if any."""
        failures = self.ledger.failures
        return min(f.at for f in failures) if failures else None

    @property
    def examples_per_second(self) -> float:
        """Examples judged per second of the run."""
        return self.examples / self.duration if self.duration > 0 else 0.0


ProgressHook = Callable[[str, "CheckResult"], None]


class Checker:
    """Runs every check against the server behind ``client`` (an ``httpx.Client``).

    Every answer the server gave is kept in :attr:`exchanges`, oldest first, as the
    engine's :class:`~sora_mock.engine.Exchange` without a journal entry.

    Args:
        client: a client whose ``base_url`` is the server's root.
        options: the run's settings.
        contract: the contract whose requests are sent and whose rules judge the answers
            (default: the bundled one).
        sleep: waits between polls and before retries (default ``time.sleep``).
        clock: reads elapsed time for timeouts (default ``time.monotonic``).
        on_progress: called with a phase name and the result so far, after each request.
    """

    def __init__(
        self,
        client: httpx.Client,
        options: CheckOptions,
        contract: Contract | None = None,
        *,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_progress: ProgressHook | None = None,
    ) -> None:
        from sora_mock.engine import Recorder  # loaded when a check starts, not on import

        self.client = client
        self.options = options
        self.contract = contract or Contract.bundled()
        self.cases = RequestCases(self.contract)
        self._sleep = sleep
        self._clock = clock
        self._on_progress = on_progress
        self._start = clock()
        #: Every answer received (retried 429s included), oldest first.
        self.exchanges = Recorder()
        seed = options.seed if options.seed is not None else random.getrandbits(32)
        self.ledger = Ledger(ignore=options.ignore, now=self._elapsed)
        self.result = CheckResult(str(client.base_url).rstrip("/"), options, seed, self.ledger)
        self._enter("starting")
        self._groups = 0
        self._base_path = client.base_url.path.rstrip("/")
        self._unknown_id = ""

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> CheckResult:
        """Run every check once; raise :class:`UnreachableError` if the server never answers."""
        cases = self.cases
        self._unknown_id = self._first(cases.unknown_ids())
        self._probe()
        histories: list[TaskHistory] = []
        budget = self.options.max_tasks
        # Each model's simplest valid body: its first documented example.
        examples = [self._first(cases.valid(model)) for model in self.contract.tasks.models]

        def create(body: dict[str, Any]) -> None:
            if len(histories) < budget:
                self._valid_create(body, histories)

        # One valid create of each model first: breaks on the happy path show up in the
        # first seconds, and every model gets a task to follow through its lifecycle.
        firsts = examples[:budget]
        if firsts:
            self._enter("valid create requests")
            for body in firsts:
                create(body)
        self._auth_checks(examples[0] if examples else {})
        self._enter("invalid create requests")
        self._explore(
            cases.invalid_groups(callbacks=False), self.options.max_examples, self._invalid_create
        )
        self._enter("malformed and unknown task ids")
        self._explore(cases.id_groups(), self.options.max_examples // 2, self._task_id_case)
        if firsts:
            self._enter("valid create requests")
            if budget > len(firsts):
                others = cases.valid().filter(lambda body: body not in firsts)
                self._explore([others], budget - len(firsts) - 1, create)
            self._isolation(histories)
            self._lifecycle(histories)
            self._isolation(histories)
        self._enter("done")
        self.result.duration = self._elapsed()
        self.result.tasks = [_summary(h) for h in histories]
        return self.result

    # -- phases --------------------------------------------------------------------------

    def _probe(self) -> None:
        self._enter("connecting")
        probe = self._send("probe: unknown task", "GET", self.cases.task_path(self._unknown_id))
        if probe.response is None:
            raise UnreachableError(f"cannot reach {self.result.base_url}: {probe.error}")
        expected = Expectation(404, error_code(self.contract.tasks.read, 404))
        check_probe(self.ledger, probe, expected, self.contract)

    def _auth_checks(self, example: dict[str, Any]) -> None:
        self._enter("authentication")
        tasks = self.contract.tasks
        body = json.dumps(example).encode()
        create_401 = Expectation(401, error_code(tasks.create, 401), kind="auth")
        for label, header in (
            ("no Authorization header", None),
            ("Basic credentials", "Basic c29yYTptb2Nr"),
            ("bearer scheme without a token", "Bearer"),
            ("bearer token with spaces", "Bearer not a token"),
        ):
            probe = self._send(
                f"create, {label}", "POST", self.cases.create_path, body=body, authorization=header
            )
            check_probe(self.ledger, probe, create_401, self.contract)
        probe = self._send(
            "task, no Authorization header",
            "GET",
            self.cases.task_path(self._unknown_id),
            authorization=None,
        )
        read_401 = Expectation(401, error_code(tasks.read, 401), kind="auth")
        check_probe(self.ledger, probe, read_401, self.contract)

    def _invalid_create(self, case: InvalidCreate) -> None:
        probe = self._send(
            self.cases.invalid_label(case),
            "POST",
            self.cases.create_path,
            body=case.body,
            content_type=case.content_type,
        )
        expected = Expectation(case.status, case.code, case.param, kind="negative")
        check_probe(self.ledger, probe, expected, self.contract)

    def _task_id_case(self, case: TaskIdCase) -> None:
        probe = self._send(
            f"task id {case.kind}: {case.task_id}",
            "GET",
            self.cases.task_path(case.task_id),
        )
        expected = Expectation(case.status, case.code, case.param, kind="negative")
        check_probe(self.ledger, probe, expected, self.contract)

    def _valid_create(self, body: dict[str, Any], histories: list[TaskHistory]) -> None:
        probe = self._send(
            "create valid", "POST", self.cases.create_path, body=json.dumps(body).encode()
        )
        check_probe(self.ledger, probe, Expectation(200, kind="positive"), self.contract)
        data = probe.json()
        if probe.response is None or probe.response.status != 200:
            return
        task_id = TaskShape.of(self.contract).value(data, "id") if isinstance(data, dict) else None
        history = TaskHistory(task_id if isinstance(task_id, str) else "?", self.contract)
        history.observe(self.ledger, probe)
        histories.append(history)

    def _isolation(self, histories: Iterable[TaskHistory]) -> None:
        other = self.options.other_token
        if other is None:
            return
        self._enter("token isolation")
        expected = Expectation(403, error_code(self.contract.tasks.read, 403), kind="isolation")
        for history in histories:
            if not _path_safe(history.task_id):
                continue
            probe = self._send(
                "task of another token",
                "GET",
                self.cases.task_path(history.task_id),
                token=other,
            )
            check_probe(self.ledger, probe, expected, self.contract)

    def _lifecycle(self, histories: list[TaskHistory]) -> None:
        self._enter("polling tasks")
        pollable = [h for h in histories if _path_safe(h.task_id)]
        deadline = self._clock() + self.options.timeout
        waiting = [h for h in pollable if not h.terminal]
        while waiting and self._clock() < deadline:
            self._sleep(self.options.poll_interval)
            for history in waiting:
                self._poll(history)
            waiting = [h for h in waiting if not h.terminal]
        finished = [h for h in pollable if h.terminal]
        if finished:
            # One more look: a terminal task must not change.
            self._sleep(self.options.poll_interval)
            for history in finished:
                self._poll(history)
        for history in pollable:
            self.ledger.count("lifecycle_terminates")
            if not history.terminal:
                status, progress = history.values("status")[-1], history.values("progress")[-1]
                self.ledger.fail(
                    "lifecycle_terminates",
                    f"task {history.task_id} is still {status!r} "
                    f"({progress}%) after {self.options.timeout:g}s",
                    history.seen[-1][0] if history.seen else None,
                )

    def _poll(self, history: TaskHistory) -> None:
        path = self.cases.task_path(history.task_id)
        probe = self._send(f"poll {history.task_id}", "GET", path)
        check_probe(self.ledger, probe, Expectation(200), self.contract)
        if probe.response is not None and probe.response.status == 200:
            history.observe(self.ledger, probe)

    # -- generation ------------------------------------------------------------------------

    def _explore(
        self, groups: list[SearchStrategy[_T]], extra: int, test: Callable[[_T], None]
    ) -> None:
        """Run ``test`` on examples of each group: its simplest, then ``extra`` shared out.

        Hypothesis tries the simplest example of a strategy first, so every group is
        exercised at least once, readably, whatever ``extra`` is.
        """
        from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

        quiet = settings(
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        for index, group in enumerate(groups):
            share = extra // len(groups) + (1 if index < extra % len(groups) else 0)
            self._groups += 1

            @settings(quiet, max_examples=1 + share)
            @seed(self.result.seed + self._groups)
            @given(group)
            def explore(value: _T) -> None:
                test(value)

            explore()

    def _first(self, strategy: SearchStrategy[_T]) -> _T:
        """The simplest example of ``strategy`` (what Hypothesis tries first)."""
        found: list[_T] = []
        self._explore([strategy], 0, found.append)
        return found[0]

    # -- HTTP ---------------------------------------------------------------------------

    def _send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = "application/json",
        token: str | None = None,
        authorization: str | object | None = _OWN_TOKEN,
    ) -> Probe:
        headers = {"accept": "application/json"}
        if authorization is _OWN_TOKEN:
            headers["authorization"] = f"Bearer {token or self.options.token}"
        elif isinstance(authorization, str):
            headers["authorization"] = authorization
        if body is not None:
            headers["content-type"] = content_type
        self.result.examples += 1
        for attempt in range(self.options.retries + 1):
            probe = self._send_once(label, method, path, headers, body)
            response = probe.response
            if response is None or response.status != 429 or attempt == self.options.retries:
                break
            self.result.rate_limited += 1
            check_probe(self.ledger, probe, None, self.contract)
            self._sleep(self._retry_wait(response, attempt))
        if probe.response is not None and probe.response.status == 429:
            self.ledger.warn(
                "status_code_conformance",
                f"still rate limited after {self.options.retries} retries; not judged",
                probe,
            )
        return probe

    def _send_once(
        self, label: str, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Probe:
        self.result.exchanges += 1
        plain = Request.build(
            method, path, headers=headers, body=body or b"", base_url=self.result.base_url
        )
        probe = send_probe(
            self.client, label, plain, self._base_path + path, timeout=self.options.request_timeout
        )
        if probe.exchange is not None:
            self.exchanges.record(probe.exchange)
        self.result.duration = self._elapsed()
        if self._on_progress is not None:
            self._on_progress(self.ledger.group, self.result)
        return probe

    def _retry_wait(self, response: Response, attempt: int) -> float:
        asked = parse_retry_after(response.header("retry-after"))
        wait: float
        if asked is None:
            wait = max(self.options.poll_interval, 1.0) * 2**attempt
        else:
            wait = asked.wait(now=time.time())
        return min(wait, self.options.max_retry_wait)

    def _enter(self, phase: str) -> None:
        """Start ``phase``: the progress line names it, the ledger groups its checks by it."""
        self.ledger.group = phase

    def _elapsed(self) -> float:
        return self._clock() - self._start


def run_check(
    base_url: str,
    options: CheckOptions,
    contract: Contract | None = None,
    *,
    on_progress: ProgressHook | None = None,
) -> CheckResult:
    """Check the server at ``base_url`` over real HTTP against ``contract`` (default: the
    bundled one); what ``sora-mock check`` does."""
    import httpx

    with httpx.Client(
        base_url=base_url, timeout=options.request_timeout, follow_redirects=False
    ) as client:
        return Checker(client, options, contract, on_progress=on_progress).run()


# -- helpers -----------------------------------------------------------------------------------


def _path_safe(task_id: str) -> bool:
    return bool(task_id) and not set(task_id) & set("/?#% ") and task_id not in (".", "..")


def _summary(history: TaskHistory) -> dict[str, Any]:
    statuses = history.values("status")
    return {
        "id": history.task_id,
        "polls": len(history.seen) - 1,
        "statuses": statuses,
        "progress": history.values("progress"),
        "final": statuses[-1] if statuses else None,
    }


def send_probe(
    client: httpx.Client, label: str, request: Request, url: str, *, timeout: float | None = None
) -> Probe:
    """Send ``request`` to ``url`` through ``client``: the answer as a :class:`Probe`, or the
    transport error when none came. ``timeout`` (seconds) overrides the client's own."""
    import httpx

    from sora_mock.engine import Exchange
    from sora_mock.inprocess import from_httpx

    options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    try:
        raw = client.request(
            request.method,
            url,
            headers=dict(request.headers),
            content=request.body or None,
            **options,
        )
    except httpx.TransportError as exc:
        return Probe.unanswered(label, request, f"{type(exc).__name__}: {exc}")
    return Probe.answered(label, Exchange(request, from_httpx(raw)))
