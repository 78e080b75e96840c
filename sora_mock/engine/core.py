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

import functools
import math
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sora_mock.contract import (
    CREATE_ROLE,
    JSON_CONTENT,
    READ_ROLE,
    BodyProblem,
    Contract,
    Operation,
    Request,
    RequestCheck,
    Response,
    TaskModel,
    json_bytes,
)
from sora_mock.engine.accounts import Accounts
from sora_mock.engine.admin import answer_mock_route, spec_response
from sora_mock.engine.clock import AdjustableClock, Clock, RealClock
from sora_mock.engine.config import MockConfig, TokenProfile
from sora_mock.engine.exchange import Exchange
from sora_mock.engine.identities import DRAW_BYTES, fill
from sora_mock.engine.inbound import (
    UnpairedSurrogateError,
    bearer_token,
    loose_json_object,
    strict_json,
)
from sora_mock.engine.journal import Journal, mask_token
from sora_mock.engine.lifecycle import PENDING, Lifecycle, Observation, lifecycle_from_dict
from sora_mock.engine.outbox import Delivery, Outbox
from sora_mock.engine.rendering import MOCK_PREFIX, TaskRenderer, seeded_link_secret
from sora_mock.engine.replies import (
    Answer,
    Outcome,
    documented,
    method_not_allowed,
    not_found,
    not_mocked,
)
from sora_mock.engine.reported import Reported
from sora_mock.engine.scenarios.book import (
    CREATE,
    POLL,
    Effect,
    Scenario,
    ScenarioBook,
    result_values,
)
from sora_mock.engine.scenarios.effects import Effects
from sora_mock.engine.store.memory import TaskStore
from sora_mock.engine.store.task import Task, TaskStorage
from sora_mock.errors import ConfigError

#: Where the mock serves the OpenAPI document it runs (also at ``/__mock/spec``).
SPEC_PATH = "/openapi.yaml"
#: Most expired tasks dropped by one request.
PURGE_BATCH = 10_000
#: How many finished tasks keep their rendered body for the status reads that follow.
FINAL_BODIES_KEPT = 4096


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
        self.tasks = self.contract.tasks
        self.config = config or MockConfig.defaults()
        _check_values(self.config, self.contract)
        self.clock: Clock = clock or RealClock(self.config.speed)
        self.seed = seed
        self.effects = Effects(
            self.contract, ScenarioBook.standard(self.contract, self.config.scenarios), seed
        )
        self.store: TaskStorage = (
            store
            if store is not None
            # Seeded runs repeat byte for byte: their links are signed with the seed's secret.
            else TaskStore(None if seed is None else seeded_link_secret(seed))
        )
        self._now()  # a restart's clock moves forward to the time the store had reached
        self._last_purge = float("-inf")
        self.accounts = Accounts()
        self.lock = threading.RLock()
        self.journal = Journal(self.lock, self.config.journal_size)
        self.outbox = Outbox()
        self._restart_identities()
        self._request_counter = 0
        #: The journal entry of the first answer waiting for the store's group commit.
        self._unsaved_from: int | None = None
        self._plans: dict[tuple[str, str | None], tuple[Lifecycle, Reported]] = {}
        self._final_bodies: dict[str, bytes] = {}
        # Compile now, so the first request pays nothing.
        self._check = RequestCheck(self.contract)
        self._renderer = TaskRenderer(self.tasks)
        self._create = self.tasks.create
        self._get_task = self.tasks.read
        self._roles = {
            self._create.operation_id: CREATE_ROLE,
            self._get_task.operation_id: READ_ROLE,
        }
        self._id_validator = self.contract.parameter_validator(
            self._get_task, self.tasks.id_parameter
        )

    # -- entry points ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as the contract, configuration, scenarios, clock and store say."""
        return self.exchange(request).response

    def exchange(self, request: Request) -> Exchange:
        """Answer ``request`` (as :meth:`handle`) and return the whole exchange: the request,
        the response and the journal entry recorded for it."""
        with self.lock:
            now = self._now()
            try:
                exchange = self._exchange(request, now)
            finally:
                self.store.settle()  # ends the answer: the time answered at, made durable
            if self._unsaved_from is None and self.store.pending():
                self._unsaved_from = self.journal.total  # the first answer the commit holds
            return exchange

    def _exchange(self, request: Request, now: float) -> Exchange:
        """:meth:`exchange`'s work, between the store's ``keep_time`` and ``settle``."""
        self._request_counter += 1
        token = bearer_token(request.headers.get("authorization"))
        outcome = self._route(request, token, now)
        if outcome.operation == "mock":  # the admin API may have moved the clock
            self.store.keep_time(self.clock.now())
        answered = outcome.response
        request_id = ("x-request-id", f"req-{self._request_counter:08d}")
        response = Response(
            status=answered.status,
            headers=(*answered.headers, request_id),
            body=answered.body,
            delay=answered.delay,
            fault=answered.fault,
        )
        own = outcome.operation == "mock"  # the mock's own routes: no bodies kept
        entry = self.journal.record(
            time=now,
            method=request.method,
            path=request.path,
            operation=outcome.operation,
            token=mask_token(token),
            status=answered.status,
            role=outcome.role,
            task_status=outcome.task_status,
            task_progress=outcome.task_progress,
            task_id=outcome.task_id,
            scenario=outcome.scenario,
            violations=outcome.violations,
            notes=outcome.notes,
            authorization=request.headers.get("authorization"),
            request_type=request.headers.get("content-type"),
            request_body=b"" if own else request.body,
            response_type=answered.header("content-type"),
            response_body=b"" if own else response.body,
        )
        return Exchange(request, response, entry)

    def writes_pending(self) -> bool:
        """True when answers given wrote to a store that commits in groups and that commit
        has not happened yet (:meth:`commit_writes`): they must not be sent before it."""
        with self.lock:
            return self.store.pending()

    def commit_writes(self, refused: Response | None = None) -> bool:
        """Commit the store's pending writes in one transaction; False when it failed.

        ``refused`` is what a door sends instead of the answers that waited for a failed
        commit: their journal entries then record it (with an ``unsaved`` note), since
        nothing those answers wrote was kept."""
        with self.lock:
            committed = self.store.commit_group()
            if not committed and refused is not None and self._unsaved_from is not None:
                self.journal.answered_instead(
                    self._unsaved_from,
                    status=refused.status,
                    response_type=refused.header("content-type"),
                    response_body=refused.body,
                    note="the state file failed to commit this answer's writes",
                )
            self._unsaved_from = None
            return committed

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
            self._unsaved_from = None
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
            if deliveries:  # the states they show stay shown after a restart
                self.store.keep_time(now)
                self.store.settle()
            return deliveries

    def callback_done(
        self,
        delivery: Delivery,
        status: int | None,
        error: str | None,
        *,
        refused: str | None = None,
    ) -> None:
        """Record a delivery attempt; plan a retry when it did not get a 2xx answer.

        ``refused`` says why the target was not contacted (its address is not one callbacks
        may reach): the attempt is recorded with that note and never retried.
        """
        with self.lock:
            now = self.clock.now()
            delivered = status is not None and 200 <= status < 300
            retried = False if delivered or refused else self.outbox.retry(delivery)
            task = self.store.get(delivery.task_id)
            self.journal.record(
                time=delivery.sent_at,
                method="POST",
                path=delivery.url,
                operation="callback",
                token=self.store.shown_token(task) if task else None,
                status=status or 0,
                task_id=delivery.task_id,
                scenario=task.scenario if task else None,
                request_type=JSON_CONTENT[1],
                request_body=delivery.body,
                notes={
                    "attempt": delivery.attempt,
                    "answered_at": now,
                    "delivered": delivered,
                    "retry_planned": retried,
                    **({"error": error} if error else {}),
                    **({"refused": refused} if refused else {}),
                },
            )

    # -- routing -------------------------------------------------------------------------

    def _route(self, request: Request, token: str | None, now: float) -> Outcome:
        if request.path.startswith(MOCK_PREFIX):
            return Outcome(answer_mock_route(self, request, now), operation="mock")
        if request.path == SPEC_PATH and request.method in ("GET", "HEAD"):
            return Outcome(spec_response(self.contract), operation="mock")
        match = self.contract.match(request.method, request.path)
        if match.operation is None:
            if match.allowed:
                return Outcome(method_not_allowed(request, ", ".join(match.allowed)))
            return Outcome(not_found(request))
        if match.operation is self._create:
            return self._create_task(request, token, now)
        if match.operation is self._get_task:
            task_id = match.path_params[self.tasks.id_parameter]
            return self._read_task(request, token, task_id, now)
        return Outcome(not_mocked(request), operation=match.operation.operation_id)

    def _refused(
        self,
        refusal: Answer,
        effect: Effect | None,
        operation: Operation,
        scenario: Scenario | None,
        task_id: str | None = None,
    ) -> Outcome:
        """The outcome of a call refused by ``refusal``, with the effect's latency and fault."""
        return Outcome(
            self.effects.finish(refusal.response, effect),
            operation=operation.operation_id,
            role=self._roles.get(operation.operation_id),
            task_id=task_id,
            scenario=scenario.name if scenario else None,
            violations=refusal.violations,
            notes=refusal.notes,
        )

    # -- creating a task -----------------------------------------------------------------

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
            model = self._validate_create(body, op)
            task = self._new_task(request, token, profile, body, model, scenario, now)
        except Answer as refusal:
            return self._refused(refusal, effect, op, scenario)
        while not self.store.add(task):  # an id taken (the same seed before a restart)
            task.id, task.draw = self._new_identity(now)
        self.store.trim(self.config.max_tasks)
        if task.callback_url is not None and not task.plan.counts_polls:
            ends = task.plan.seconds_to_end
            if ends != float("inf"):
                self.outbox.schedule(task.id, task.created_at + ends)
        response = Response(200, (JSON_CONTENT,), self._task_body(task, PENDING, now))
        return Outcome(
            effects.finish(response, effect),
            operation=op.operation_id,
            role=CREATE_ROLE,
            task_status=PENDING.status,
            task_progress=PENDING.progress,
            task_id=task.id,
            scenario=task.scenario,
        )

    def _new_task(
        self,
        request: Request,
        token: str,
        profile: TokenProfile,
        body: Mapping[str, Any],
        model: TaskModel,
        scenario: Scenario | None,
        now: float,
    ) -> Task:
        op = self._create
        if not profile.may_use(model.name):
            message = f"Token does not have access to model: {model.name}"
            raise Answer(documented(op.error(403), message))
        plan, reported = self._plan_for(model, scenario)
        if profile.credits is not None:  # unlimited tokens leave no trace
            cost = model.cost_of(reported.values)
            if not self.accounts.can_afford(token, profile, cost):
                raise Answer(documented(op.error(402)))
            self.accounts.charge(token, cost)
        if now - self._last_purge >= 1.0:
            self._purge(now)
        task_id, draw = self._new_identity(now)
        callback = model.callback_field
        return Task(
            id=task_id,
            token=token,
            created_at=now,
            model=model.name,
            plan=plan,
            reported=reported,
            draw=draw,
            base_url=request.base_url,
            scenario=scenario.name if scenario else None,
            callback_url=body.get(callback) if callback else None,
        )

    def _purge(self, now: float) -> None:
        # Expired tasks are refused on read anyway, so dropping them can wait: at most once
        # per mock second (a shared SQLite store takes no write lock on every request; the
        # callers check the time) and in batches (no single request pays for a million).
        self._last_purge = now
        self.store.purge(now, limit=PURGE_BATCH)

    def _plan_for(self, model: TaskModel, scenario: Scenario | None) -> tuple[Lifecycle, Reported]:
        """The lifecycle and reported values of a task of ``model`` created under
        ``scenario``: the spec's, then the configuration's, then the scenario's. Worked out
        once per model and scenario (until scenarios are loaded again)."""
        key = (model.name, scenario.name if scenario else None)
        known = self._plans.get(key)
        if known is not None:
            return known
        plan = lifecycle_from_dict(model.lifecycle, Lifecycle())
        plan = lifecycle_from_dict(self.config.lifecycle, plan)
        values = {**model.values, **self.config.task.values}
        if scenario is not None:
            plan = scenario.plan(plan)
            values.update(scenario.result)
        planned = plan, Reported(values, self.config.task.retention)
        self._plans[key] = planned
        return planned

    def _validate_create(self, body: Mapping[str, Any], op: Operation) -> TaskModel:
        checked = self._check.check(
            body,
            allow_loopback=self.config.allow_loopback_callbacks,
            allow_ports=self.config.allow_callback_ports,
        )
        if isinstance(checked, BodyProblem):
            raise Answer(
                documented(op.error(400), checked.message, checked.param),
                violations=[checked.violation],
            )
        return checked.model

    # -- reading a task ------------------------------------------------------------------

    def _read_task(self, request: Request, token: str | None, task_id: str, now: float) -> Outcome:
        op = self._get_task
        well_formed = self._id_validator.is_valid(task_id)
        task = self.store.get(task_id) if well_formed else None
        owned = task if task is not None and self.store.owns(task, token) else None
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
            read = self._read_owned_task(request, token, op, task_id, task, now, well_formed)
        except Answer as refusal:
            return self._refused(refusal, effect, op, scenario, task_id)
        read.response = self.effects.finish(read.response, effect)
        read.scenario = scenario.name if scenario else None
        return read

    def _read_owned_task(
        self,
        request: Request,
        token: str | None,
        op: Operation,
        task_id: str,
        task: Task | None,
        now: float,
        well_formed: bool,
    ) -> Outcome:
        """The task's answer, if ``token`` may read it (``task`` is what the store had)."""
        token, profile = self._admit(request, token, op, now)
        if profile.credits is not None and (self.accounts.balance(token, profile) or 0.0) < 0:
            raise Answer(documented(op.error(402)))  # overdrawn
        if not well_formed:
            param = self.tasks.id_parameter
            raise Answer(documented(op.error(400)), violations=[f"{param}: not a task id"])
        if now - self._last_purge >= 1.0:
            self._purge(now)  # an expired task read before this fails the test below
        if task is None or task.expires_at() <= now:
            raise Answer(documented(op.error(404)))
        if not self.store.owns(task, token):
            raise Answer(documented(op.error(403)))
        ended_before = task.ended_at is not None
        seen = task.read(now)
        self.store.save(task)
        ended_now = seen.terminal and not ended_before and task.ended_at is not None
        if ended_now and task.plan.counts_polls and task.callback_url:
            # A task whose end waits for polls ends at this read: its callback is due now.
            self.outbox.schedule(task.id, now)
        return Outcome(
            Response(200, (JSON_CONTENT,), self._read_body(task, seen, now)),
            operation=op.operation_id,
            role=READ_ROLE,
            task_status=seen.status,
            task_progress=seen.progress,
            task_id=task_id,
            notes={"failure_code": task.plan.failure.code} if seen.status == "failed" else {},
        )

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
        except UnpairedSurrogateError as exc:
            raise Answer(
                documented(op.error(400), f"Malformed JSON body: {exc}", exc.field),
                violations=["unpaired surrogate"],
            ) from None
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
        return self._renderer.render(task, seen, now, self.link_secret)

    @functools.cached_property
    def link_secret(self) -> bytes:
        """The key file links are signed with: the store's secret (a state file's, shared by
        workers and restarts; a seeded engine's own memory store's, drawn from the seed)."""
        return self.store.link_secret()

    def _task_body(self, task: Task, seen: Observation, now: float) -> bytes:
        return json_bytes(self.render(task, seen, now))

    # -- time ----------------------------------------------------------------------------

    def _now(self) -> float:
        """The mock time to answer at: the clock's, or the latest time the store keeps when
        the clock is behind it (a restarted server, another worker ahead), the clock moved
        forward to it. The store keeps it before the answer is sent, so no later answer,
        after a restart too, shows an earlier time."""
        now = self.clock.now()
        reached = self.store.keep_time(now)
        if reached > now:
            if isinstance(self.clock, AdjustableClock):
                self.clock.advance(max(0.0, reached - self.clock.now()))
            now = reached
        return now

    # -- identifiers ---------------------------------------------------------------------

    def _new_identity(self, now: float) -> tuple[str, int]:
        """A task id (the contract's pattern) and the draw its drawn values come from, from
        seeded random bytes. The id may be taken already (the store refuses it; the caller
        draws again)."""
        drawn = self._random.getrandbits(128).to_bytes(16, "little")
        task_id = fill(self.tasks.id_pattern, drawn[:DRAW_BYTES], int(now))
        return task_id, int.from_bytes(drawn[DRAW_BYTES:], "little")

    def _restart_identities(self) -> None:
        """Draw task ids and names from the seed's start again."""
        self._random = random.Random(self.seed)


def _check_values(config: MockConfig, contract: Contract) -> None:
    """The values the configuration sets for every model must be ones the models report (a
    model's cost a number), or every create would fail on them."""
    found = result_values(contract).first_problem(config.task.values)
    if found is not None:
        raise ConfigError(f"task.{found.name}: {found.message}", source="<config>")
