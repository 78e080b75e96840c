"""The engine: one synchronous, I/O-free function from a request to the contract's answer.

Every door (the ASGI app, the httpx transport) turns its request into a
:class:`~sora_mock.contract.messages.Request`, calls :meth:`Engine.handle`, and writes the
:class:`~sora_mock.contract.messages.Response` back. The engine reads the compiled contract, the
configuration and scenarios, a clock and its task store; it never reads the system time,
sleeps or does I/O (latency and connection faults are instructions on the response).

Example::

    engine = Engine(clock=VirtualClock(), seed=1)
    request = Request.build("POST", "/v1/videos/generations", ...)
    exchange = engine.exchange(request)  # engine.handle(request) gives the response alone
    exchange.response.status, exchange.entry.task_id
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sora_mock.contract import (
    CREATE_OPERATION,
    DEFAULT_TIMESTAMPS,
    GET_TASK_OPERATION,
    JSON_CONTENT,
    Contract,
    Operation,
    Request,
    Response,
    callback_url_problem,
    json_bytes,
    parse_timestamps,
    video_url_problem,
)
from sora_mock.engine.accounts import Accounts
from sora_mock.engine.admin import answer_mock_route
from sora_mock.engine.clock import Clock, RealClock
from sora_mock.engine.config import MockConfig, TaskDefaults, TokenProfile
from sora_mock.engine.exchange import Exchange
from sora_mock.engine.inbound import (
    bearer_token,
    error_order,
    error_param,
    loose_json_object,
    strict_json,
)
from sora_mock.engine.journal import Journal, mask_token
from sora_mock.engine.lifecycle import PENDING, Lifecycle, Observation
from sora_mock.engine.outbox import Delivery, Outbox
from sora_mock.engine.rendering import MOCK_PREFIX, render_task
from sora_mock.engine.replies import Answer, Outcome, documented, method_not_allowed, not_found
from sora_mock.engine.scenarios.book import CREATE, POLL, Effect, Scenario, ScenarioBook
from sora_mock.engine.scenarios.effects import Effects
from sora_mock.engine.store.memory import TaskStore
from sora_mock.engine.store.task import Task, TaskStorage

TASK_ID_PREFIX = "task-unified-"
#: Most expired tasks dropped by one request.
PURGE_BATCH = 10_000
#: How many finished tasks keep their rendered body for the status reads that follow.
FINAL_BODIES_KEPT = 4096
# Byte-to-letter tables: a random byte's low five bits pick one of 32 letters, uniformly.
# Ids take 32 of [a-z0-9]; names take 32 letters without look-alikes (no I, O, l).
_ID_LETTERS = bytes(b"abcdefghijklmnopqrstuvwxyz012345"[i & 31] for i in range(256))
_NAME_LETTERS = bytes(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh"[i & 31] for i in range(256))


class Engine:
    """The mock's behaviour. Thread-safe: one lock serialises every entry point."""

    #: Draws task ids and names (set by _restart_identities).
    _random: random.Random

    def __init__(
        self,
        contract: Contract | None = None,
        config: MockConfig | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        store: TaskStorage | None = None,
    ) -> None:
        self.contract = contract or Contract.bundled()
        self.config = config or MockConfig.defaults()
        self.clock: Clock = clock or RealClock(self.config.speed)
        self.seed = seed
        self.effects = Effects(
            self.contract, ScenarioBook.standard(self.contract, self.config.scenarios), seed
        )
        self.store: TaskStorage = store if store is not None else TaskStore()
        self._last_purge = float("-inf")
        self.accounts = Accounts()
        self.lock = threading.RLock()
        self.journal = Journal(self.lock, self.config.journal_size)
        self.outbox = Outbox()
        self._restart_identities()
        self._request_counter = 0
        self._plans: dict[str | None, tuple[Lifecycle, TaskDefaults]] = {}
        self._final_bodies: dict[str, bytes] = {}
        # Compile now, so the first request pays nothing.
        self._body_validators = self.contract.request_validators
        self._create = self.contract.operation(CREATE_OPERATION)
        self._get_task = self.contract.operation(GET_TASK_OPERATION)

    # -- entry points ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as the contract, configuration, scenarios, clock and store say."""
        return self.exchange(request).response

    def exchange(self, request: Request) -> Exchange:
        """Answer ``request`` (as :meth:`handle`) and return the whole exchange: the request,
        the response and the journal entry recorded for it."""
        with self.lock:
            now = self.clock.now()
            self._request_counter += 1
            token = bearer_token(request.headers.get("authorization"))
            outcome = self._route(request, token, now)
            entry = self.journal.record(
                time=now,
                method=request.method,
                path=request.path,
                operation=outcome.operation,
                token=mask_token(token),
                status=outcome.response.status,
                task_id=outcome.task_id,
                scenario=outcome.scenario,
                violations=outcome.violations,
                notes=outcome.notes,
            )
            answered = outcome.response
            request_id = ("x-request-id", f"req-{self._request_counter:08d}")
            response = Response(
                status=answered.status,
                headers=(*answered.headers, request_id),
                body=answered.body,
                delay=answered.delay,
                fault=answered.fault,
            )
            return Exchange(request, response, entry)

    def reset(self) -> None:
        """Forget every task, spent credit, rate-limit window, burst count and journal entry."""
        with self.lock:
            self.store.clear()
            self.accounts.reset()
            self.journal.clear()
            self.outbox.clear()
            self.effects.reset()
            self._last_purge = float("-inf")
            self._restart_identities()
            self._request_counter = 0
            self._final_bodies.clear()

    def load_scenarios(self, scenarios: Iterable[Scenario], *, replace: bool = True) -> None:
        """Replace (or add before) the loaded scenarios; built-in ones always stay."""
        with self.lock:
            self.effects.book = self.effects.book.with_loaded(scenarios, replace=replace)
            self._plans.clear()

    @property
    def scenarios(self) -> ScenarioBook:
        """The scenarios in force: the built-in library and the loaded ones."""
        return self.effects.book

    def scenario_names(self) -> list[str]:
        """Every scenario a request can choose, loaded ones first."""
        return self.scenarios.names()

    def callbacks_due(self, now: float | None = None) -> list[Delivery]:
        """Callback deliveries due by ``now`` (default: the clock), removed from the outbox."""
        with self.lock:
            now = self.clock.now() if now is None else now
            deliveries = []
            for due_at, task_id, attempt in self.outbox.pop_due(now):
                task = self.store.get(task_id)
                if task is None or task.callback_url is None:
                    continue
                at = max(due_at, task.ended_at or due_at)
                body = self._task_body(task, task.peek(at), at)
                deliveries.append(
                    Delivery(
                        task_id=task_id,
                        url=task.callback_url,
                        body=body,
                        attempt=attempt,
                        due_at=due_at,
                        sent_at=now,
                    )
                )
            return deliveries

    def callback_done(self, delivery: Delivery, status: int | None, error: str | None) -> None:
        """Record a delivery attempt; plan a retry when it did not get a 2xx answer."""
        with self.lock:
            now = self.clock.now()
            delivered = status is not None and 200 <= status < 300
            retried = False if delivered else self.outbox.retry(delivery)
            task = self.store.get(delivery.task_id)
            self.journal.record(
                time=delivery.sent_at,
                method="POST",
                path=delivery.url,
                operation="callback",
                token=mask_token(task.token) if task else None,
                status=status or 0,
                task_id=delivery.task_id,
                scenario=task.scenario if task else None,
                notes={
                    "attempt": delivery.attempt,
                    "answered_at": now,
                    "delivered": delivered,
                    "retry_planned": retried,
                    **({"error": error} if error else {}),
                },
            )

    # -- routing -------------------------------------------------------------------------

    def _route(self, request: Request, token: str | None, now: float) -> Outcome:
        if request.path.startswith(MOCK_PREFIX):
            return Outcome(answer_mock_route(self, request, now), operation="mock")
        match = self.contract.match(request.method, request.path)
        if match.operation is None:
            if match.allowed:
                return Outcome(method_not_allowed(request, ", ".join(match.allowed)))
            return Outcome(not_found(request))
        if match.operation is self._create:
            return self._create_task(request, token, now)
        return self._read_task(request, token, match.path_params["task_id"], now)

    def _refused(
        self,
        refusal: Answer,
        effect: Effect | None,
        operation: str,
        scenario: Scenario | None,
        task_id: str | None = None,
    ) -> Outcome:
        """The outcome of a call refused by ``refusal``, with the effect's latency and fault."""
        return Outcome(
            self.effects.finish(refusal.response, effect),
            operation=operation,
            task_id=task_id,
            scenario=scenario.name if scenario else None,
            violations=refusal.violations,
            notes=refusal.notes,
        )

    # -- POST /v1/videos/generations -----------------------------------------------------

    def _create_task(self, request: Request, token: str | None, now: float) -> Outcome:
        op = self._create
        effects = self.effects
        scenario: Scenario | None = None
        effect: Effect | None = None
        try:
            if request.oversized or len(request.body) > self.config.max_body_bytes:
                limit = self.config.max_body_bytes
                message = f"Request body too large: the limit is {limit} bytes"
                raise Answer(documented(op.error(413), message))
            if effects.book.loaded or "prefer" in request.headers:  # else none can apply
                loose = loose_json_object(request.body) if effects.book.matches_bodies else None
                scenario, effect = effects.choose(op, CREATE, request, token, loose, None)
            if effect is not None and effect.reply is not None:
                raise Answer(effects.reply(op, effect.reply))
            token, profile = self._admit(request, token, op, now)
            body = self._json_body(request, op)
            self._validate_create(body, op)
            task = self._new_task(request, token, profile, body, scenario, now)
        except Answer as refusal:
            return self._refused(refusal, effect, CREATE_OPERATION, scenario)
        while not self.store.add(task):  # an id taken (the same seed before a restart)
            task.id = self._new_identity(now)[0]
        if task.callback_url is not None and not task.plan.counts_polls:
            ends = task.plan.seconds_to_end
            if ends != float("inf"):
                self.outbox.schedule(task.id, task.created_at + ends)
        response = Response(200, (JSON_CONTENT,), self._task_body(task, PENDING, now))
        return Outcome(
            effects.finish(response, effect),
            operation=CREATE_OPERATION,
            task_id=task.id,
            scenario=task.scenario,
        )

    def _new_task(
        self,
        request: Request,
        token: str,
        profile: TokenProfile,
        body: Mapping[str, Any],
        scenario: Scenario | None,
        now: float,
    ) -> Task:
        op = self._create
        model = body["model"]
        if model not in profile.models:
            raise Answer(documented(op.error(403), f"Token does not have access to model: {model}"))
        if profile.credits is not None:  # unlimited tokens leave no trace
            cost = self.config.task.credits_reserved
            if not self.accounts.can_afford(token, profile, cost):
                raise Answer(documented(op.error(402)))
            self.accounts.charge(token, cost)
        plan, defaults = self._plan_for(scenario)
        if now - self._last_purge >= 1.0:
            self._purge(now)
        task_id, name = self._new_identity(now)
        if scenario is not None and scenario.result.character_name:
            name = scenario.result.character_name
        return Task(
            id=task_id,
            token=token,
            created_at=now,
            model=model,
            plan=plan,
            defaults=defaults,
            character_name=name,
            video_url=body["video_url"],
            timestamps=body.get("timestamps", DEFAULT_TIMESTAMPS),
            base_url=request.base_url,
            scenario=scenario.name if scenario else None,
            callback_url=body.get("callback_url"),
        )

    def _purge(self, now: float) -> None:
        # Expired tasks are refused on read anyway, so dropping them can wait: at most once
        # per mock second (a shared SQLite store takes no write lock on every request; the
        # callers check the time) and in batches (no single request pays for a million).
        self._last_purge = now
        self.store.purge(now, limit=PURGE_BATCH)

    def _plan_for(self, scenario: Scenario | None) -> tuple[Lifecycle, TaskDefaults]:
        """The lifecycle and reported values of a task created under ``scenario``, worked out
        once per scenario (until scenarios are loaded again)."""
        key = scenario.name if scenario else None
        known = self._plans.get(key)
        if known is not None:
            return known
        plan, defaults = self.config.lifecycle, self.config.task
        if scenario is not None:
            plan = scenario.plan(plan)
            overrides = {
                k: v
                for k, v in dataclasses.asdict(scenario.result).items()
                if v is not None and k != "character_name"
            }
            defaults = dataclasses.replace(defaults, **overrides)
        self._plans[key] = (plan, defaults)
        return plan, defaults

    def _validate_create(self, body: Mapping[str, Any], op: Operation) -> None:
        validator = self._body_validators[op.operation_id]
        if not validator.is_valid(body):
            first = min(validator.iter_errors(body), key=error_order)
            param = error_param(first)
            message = (
                f"Invalid request parameters: {param}: {first.message}"
                if param
                else (f"Invalid request parameters: {first.message}")
            )
            if param == "timestamps" and isinstance(body.get("timestamps"), str):
                parsed = parse_timestamps(body["timestamps"])
                message = parsed if isinstance(parsed, str) else message
            raise Answer(
                documented(op.error(400), message, param), violations=[f"{param}: {first.message}"]
            )
        problem = video_url_problem(body["video_url"])
        if problem:
            raise Answer(documented(op.error(400), problem, "video_url"), violations=[problem])
        parsed = parse_timestamps(body.get("timestamps", DEFAULT_TIMESTAMPS))
        if isinstance(parsed, str):
            raise Answer(documented(op.error(400), parsed, "timestamps"), violations=[parsed])
        callback = body.get("callback_url")
        if callback is not None:
            problem = callback_url_problem(
                callback, allow_loopback=self.config.allow_loopback_callbacks
            )
            if problem:
                raise Answer(
                    documented(op.error(400), problem, "callback_url"), violations=[problem]
                )

    # -- GET /v1/tasks/{task_id} -------------------------------------------------------

    def _read_task(self, request: Request, token: str | None, task_id: str, now: float) -> Outcome:
        op = self._get_task
        task = self.store.get(task_id) if task_id.startswith(TASK_ID_PREFIX) else None
        owned = task if task is not None and task.token == token else None
        scenario: Scenario | None = None
        effect: Effect | None = None
        try:
            if (
                (owned is not None and owned.scenario is not None)
                or self.effects.book.loaded
                or "prefer" in request.headers
            ):  # else none can apply
                scenario, effect = self.effects.choose(op, POLL, request, token, None, owned)
            if effect is not None and effect.reply is not None:
                raise Answer(self.effects.reply(op, effect.reply))
            response = self._read_owned_task(request, token, op, task_id, task, now)
        except Answer as refusal:
            return self._refused(refusal, effect, GET_TASK_OPERATION, scenario, task_id)
        return Outcome(
            self.effects.finish(response, effect),
            operation=GET_TASK_OPERATION,
            task_id=task_id,
            scenario=scenario.name if scenario else None,
        )

    def _read_owned_task(
        self,
        request: Request,
        token: str | None,
        op: Operation,
        task_id: str,
        task: Task | None,
        now: float,
    ) -> Response:
        """The task's answer, if ``token`` may read it (``task`` is what the store had)."""
        token, profile = self._admit(request, token, op, now)
        if profile.credits is not None and (self.accounts.balance(token, profile) or 0.0) < 0:
            raise Answer(documented(op.error(402)))  # overdrawn
        if not task_id.startswith(TASK_ID_PREFIX):
            raise Answer(documented(op.error(400)), violations=["task_id: bad prefix"])
        if now - self._last_purge >= 1.0:
            self._purge(now)  # an expired task read before this fails the test below
        if task is None or task.expires_at() <= now:
            raise Answer(documented(op.error(404)))
        if task.token != token:
            raise Answer(documented(op.error(403)))
        ended_before = task.ended_at is not None
        seen = task.read(now)
        self.store.save(task)
        ended_now = seen.terminal and not ended_before and task.ended_at is not None
        if ended_now and task.plan.counts_polls and task.callback_url:
            # A task whose end waits for polls ends at this read: its callback is due now.
            self.outbox.schedule(task.id, now)
        return Response(200, (JSON_CONTENT,), self._read_body(task, seen, now))

    def _read_body(self, task: Task, seen: Observation, now: float) -> bytes:
        """The body of a status read. Terminal states are final, so a finished task's body
        never changes: it is rendered once and kept (the newest :data:`FINAL_BODIES_KEPT`)."""
        if not seen.terminal:
            return self._task_body(task, seen, now)
        body = self._final_bodies.get(task.id)
        if body is None:
            body = self._final_bodies[task.id] = self._task_body(task, seen, now)
            if len(self._final_bodies) > FINAL_BODIES_KEPT:
                del self._final_bodies[next(iter(self._final_bodies))]  # the oldest
        return body

    # -- shared steps --------------------------------------------------------------------

    def _admit(
        self, request: Request, token: str | None, op: Operation, now: float
    ) -> tuple[str, TokenProfile]:
        """The caller's token and profile, once authenticated and let through the gate
        (rate limit, profile fault); else the documented refusal."""
        if token is None:
            header = request.headers.get("authorization")
            why = "missing Authorization header" if header is None else "malformed bearer token"
            raise Answer(documented(op.error(401)), violations=[why])
        profile = self.config.token_profile(token)
        if profile is None:
            raise Answer(documented(op.error(401)), violations=["unknown token"])
        if profile.rate_limit is not None or profile.fault is not None:
            self._gate(op, token, profile, now)
        return token, profile

    def _gate(self, op: Operation, token: str, profile: TokenProfile, now: float) -> None:
        wait = self.accounts.wait_needed(token, profile, now)
        if wait is not None:
            # Retry-After speaks to the client, in its (real) seconds: on a sped-up clock the
            # window reopens sooner than its mock length.
            speed = getattr(self.clock, "speed", 1.0)
            retry_after = str(max(1, math.ceil(wait / speed)))
            raise Answer(documented(op.error(429), headers=(("retry-after", retry_after),)))
        if profile.fault == "internal_error":
            raise Answer(documented(op.error(500)))

    def _json_body(self, request: Request, op: Operation) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            shown = content_type or "none"
            raise Answer(
                documented(op.error(400), f"Content-Type must be application/json, got {shown}"),
                violations=["content-type"],
            )
        try:
            body = strict_json(request.body)
        except (ValueError, RecursionError) as exc:
            reason = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
            raise Answer(
                documented(op.error(400), f"Malformed JSON body: {reason}"),
                violations=["malformed JSON"],
            ) from None
        if not isinstance(body, dict):
            raise Answer(
                documented(op.error(400), "Request body must be a JSON object"),
                violations=["body is not an object"],
            )
        return body

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        """The task as the API shows it in state ``seen`` at mock time ``now``.

        A subclass may override it: every task answer and callback then shows what it
        returns."""
        return render_task(task, seen, now)

    def _task_body(self, task: Task, seen: Observation, now: float) -> bytes:
        return json_bytes(self.render(task, seen, now))

    # -- identifiers ---------------------------------------------------------------------

    def _new_identity(self, now: float) -> tuple[str, str]:
        """A task id and character name: eight seeded random letters each. The id may be
        taken already (the store refuses it; the caller draws again)."""
        drawn = self._random.getrandbits(128).to_bytes(16, "little")
        letters = drawn[:8].translate(_ID_LETTERS).decode()
        name = drawn[8:].translate(_NAME_LETTERS).decode()
        return f"{TASK_ID_PREFIX}{int(now)}-{letters}", f"chr_{name}"

    def _restart_identities(self) -> None:
        """Draw task ids and names from the seed's start again."""
        self._random = random.Random(self.seed)
