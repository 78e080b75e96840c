"""The engine: one synchronous, I/O-free function from a request to the contract's answer.

Every door (the ASGI app, the httpx transport) turns its request into a
:class:`~sora_mock.messages.Request`, calls :meth:`Engine.handle`, and writes the
:class:`~sora_mock.messages.Response` back. The engine reads the compiled contract, the
configuration and scenarios, a clock and its task store; it never reads the system time,
sleeps or does I/O (latency and connection faults are instructions on the response).

Example::

    engine = Engine(clock=VirtualClock(), seed=1)
    response = engine.handle(Request.build("POST", "/v1/videos/generations", ...))
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import random
import string
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sora_mock import admin
from sora_mock.accounts import Accounts
from sora_mock.callbacks import Delivery, Outbox
from sora_mock.clock import Clock, RealClock
from sora_mock.config import MockConfig, TaskDefaults, TokenProfile
from sora_mock.contract import Contract, Operation
from sora_mock.journal import Journal, mask_token
from sora_mock.lifecycle import Lifecycle, Observation, time_to_end
from sora_mock.messages import Request, Response
from sora_mock.replies import documented, method_not_allowed, not_found
from sora_mock.rules import (
    DEFAULT_TIMESTAMPS,
    callback_url_problem,
    parse_timestamps,
    video_url_problem,
)
from sora_mock.scenarios import CREATE, POLL, Effect, ErrorReply, Scenario, ScenarioBook
from sora_mock.store import Task, TaskRecord, TaskStorage, TaskStore

CREATE_OPERATION = "createCharacterGeneration"
GET_TASK_OPERATION = "getTaskDetail"
TASK_ID_PREFIX = "task-unified-"
MOCK_PREFIX = "/__mock/"
#: Most expired tasks dropped by one request.
PURGE_BATCH = 10_000
#: How long the ``timeout`` fault waits (real seconds) when the effect sets no latency.
TIMEOUT_FAULT_SECONDS = 300.0
_ID_ALPHABET = string.ascii_lowercase + string.digits
_NAME_ALPHABET = string.ascii_letters + string.digits
_BEARER_TOKEN = frozenset(string.ascii_letters + string.digits + "-._~+/=")


class Answer(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the engine to stop at the first rule that decides the response."""

    def __init__(self, response: Response, **notes: Any) -> None:
        self.response = response
        self.notes = notes


class Engine:
    """The mock's behaviour. Thread-safe: one lock serialises every entry point."""

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
        self.scenarios = ScenarioBook.standard(self.contract, self.config.scenarios)
        self.store: TaskStorage = store if store is not None else TaskStore()
        self._last_purge = float("-inf")
        self.accounts = Accounts()
        self.journal = Journal(self.config.journal_size)
        self.outbox = Outbox()
        self.lock = threading.RLock()
        self._random = random.Random(seed)
        self._request_counter = 0
        self._effect_counts: dict[tuple[str, ...], int] = {}
        self._plans: dict[str | None, tuple[Lifecycle, TaskDefaults]] = {}
        # Compile now, so the first request pays nothing.
        self._body_validators = self.contract.request_validators
        self._create = self.contract.operation(CREATE_OPERATION)
        self._get_task = self.contract.operation(GET_TASK_OPERATION)

    # -- entry points ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as the contract, configuration, scenarios, clock and store say."""
        with self.lock:
            now = self.clock.now()
            self._request_counter += 1
            notes: dict[str, Any] = {}
            try:
                response = self._route(request, now)
            except Answer as answer:
                response, notes = answer.response, answer.notes
            self.journal.record(
                time=now,
                method=request.method,
                path=request.path,
                operation=notes.pop("operation", None) or _route_name(request),
                token=mask_token(_bearer_token(request)),
                status=response.status,
                task_id=notes.pop("task_id", None),
                scenario=notes.pop("scenario", None),
                violations=tuple(notes.pop("violations", ())),
                notes=notes,
            )
            request_id = ("x-request-id", f"req-{self._request_counter:08d}")
            return Response(
                response.status,
                (*response.headers, request_id),
                response.body,
                response.delay,
                response.fault,
            )

    def reset(self) -> None:
        """Forget every task, spent credit, rate-limit window, burst count and journal entry."""
        with self.lock:
            self.store.clear()
            self.accounts.reset()
            self.journal.clear()
            self.outbox.clear()
            self._effect_counts.clear()
            self._last_purge = float("-inf")
            self._random = random.Random(self.seed)
            self._request_counter = 0

    def load_scenarios(self, scenarios: Iterable[Scenario], *, replace: bool = True) -> None:
        """Replace (or add before) the loaded scenarios; built-in ones always stay."""
        with self.lock:
            self.scenarios = self.scenarios.with_loaded(scenarios, replace=replace)
            self._plans.clear()

    def scenario_names(self) -> list[str]:
        """Every scenario a request can choose, loaded ones first."""
        return self.scenarios.names()

    def callbacks_due(self, now: float | None = None) -> list[Delivery]:
        """Callback deliveries due by ``now`` (default: the clock), removed from the outbox."""
        with self.lock:
            now = self.clock.now() if now is None else now
            deliveries = []
            for due_at, task_id, attempt in self.outbox.pop_due(now):
                record = self.store.get(task_id)
                if record is None or record.task.callback_url is None:
                    continue
                at = max(due_at, record.ended_at or due_at)
                body = self.render(record, record.peek(at), at)
                data = json.dumps(body, separators=(",", ":")).encode()
                deliveries.append(
                    Delivery(task_id, record.task.callback_url, data, attempt, due_at, now)
                )
            return deliveries

    def callback_done(self, delivery: Delivery, status: int | None, error: str | None) -> None:
        """Record a delivery attempt; plan a retry when it did not get a 2xx answer."""
        with self.lock:
            now = self.clock.now()
            delivered = status is not None and 200 <= status < 300
            retried = False if delivered else self.outbox.retry(delivery)
            record = self.store.get(delivery.task_id)
            self.journal.record(
                time=delivery.sent_at,
                method="POST",
                path=delivery.url,
                operation="callback",
                token=mask_token(record.task.token) if record else None,
                status=status or 0,
                task_id=delivery.task_id,
                scenario=record.task.scenario if record else None,
                notes={
                    "attempt": delivery.attempt,
                    "answered_at": now,
                    "delivered": delivered,
                    "retry_planned": retried,
                    **({"error": error} if error else {}),
                },
            )

    # -- routing -------------------------------------------------------------------------

    def _route(self, request: Request, now: float) -> Response:
        if request.path.startswith(MOCK_PREFIX):
            return admin.handle(self, request, now)
        match = self.contract.match(request.method, request.path)
        if match.operation is None:
            if match.allowed:
                raise Answer(method_not_allowed(request, ", ".join(match.allowed)))
            raise Answer(not_found(request))
        operation = match.operation
        try:
            if operation is self._create:
                return self._create_task(request, now)
            return self._read_task(request, match.path_params["task_id"], now)
        except Answer as answer:
            answer.notes.setdefault("operation", operation.operation_id)
            raise

    # -- POST /v1/videos/generations -----------------------------------------------------

    def _create_task(self, request: Request, now: float) -> Response:
        op = self._create
        if request.oversized or len(request.body) > self.config.max_body_bytes:
            limit = self.config.max_body_bytes
            raise Answer(
                documented(op.error(413), f"Request body too large: the limit is {limit} bytes")
            )
        token = _bearer_token(request)
        loose_body = _loose_json_object(request.body) if self.scenarios.matches_bodies else None
        scenario, effect = self._choose(op, CREATE, request, token, loose_body, None)
        notes = {"scenario": scenario.name if scenario else None}
        try:
            if effect is not None and effect.reply is not None:
                raise Answer(self._reply(op, effect.reply))
            token, profile = self._authenticate(request, op)
            self._gate(op, token, profile, now)
            body = self._json_body(request, op)
            self._validate_create(body, op)
            task = self._new_task(request, token, profile, body, scenario, now)
        except Answer as answer:
            raise Answer(self._finish(answer.response, effect), **notes, **answer.notes) from None
        response = Response.json(
            200, self.render(self.store.add(task), Observation("pending", 0), now)
        )
        if task.callback_url is not None and not task.plan.counts_polls:
            ends = time_to_end(task.plan)
            if ends != float("inf"):
                self.outbox.schedule(task.id, task.created_at + ends)
        raise Answer(self._finish(response, effect), task_id=task.id, **notes)

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
        cost = self.config.task.credits_reserved
        if not self.accounts.can_afford(token, profile, cost):
            raise Answer(documented(op.error(402)))
        if profile.credits is not None:  # unlimited tokens leave no trace
            self.accounts.charge(token, cost)
        plan, defaults = self._plan_for(scenario)
        self._purge(now)
        name = scenario.result.character_name if scenario else None
        return Task(
            id=self._new_task_id(now),
            token=token,
            created_at=now,
            model=model,
            plan=plan,
            defaults=defaults,
            character_name=name or self._new_character_name(),
            video_url=body["video_url"],
            timestamps=body.get("timestamps", DEFAULT_TIMESTAMPS),
            base_url=request.base_url,
            scenario=scenario.name if scenario else None,
            callback_url=body.get("callback_url"),
        )

    def _purge(self, now: float) -> None:
        # Expired tasks are refused on read anyway, so dropping them can wait: at most once
        # per mock second (a shared SQLite store takes no write lock on every request) and
        # in batches (no single request pays for a million expired tasks).
        if now - self._last_purge >= 1.0:
            self._last_purge = now
            self.store.purge(now, limit=PURGE_BATCH)

    def _plan_for(self, scenario: Scenario | None) -> tuple[Lifecycle, TaskDefaults]:
        """The lifecycle and reported values of a task created under ``scenario``."""
        key = scenario.name if scenario else None
        if key not in self._plans:
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
        return self._plans[key]

    def _validate_create(self, body: Mapping[str, Any], op: Operation) -> None:
        validator = self._body_validators[op.operation_id]
        errors = (
            []
            if validator.is_valid(body)
            else sorted(validator.iter_errors(body), key=_error_order)
        )
        if errors:
            first = errors[0]
            param = _error_param(first)
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

    def _read_task(self, request: Request, task_id: str, now: float) -> Response:
        op = self._get_task
        token = _bearer_token(request)
        record = self.store.get(task_id) if task_id.startswith(TASK_ID_PREFIX) else None
        owned = record if record is not None and record.task.token == token else None
        scenario, effect = self._choose(op, POLL, request, token, None, owned)
        notes = {"scenario": scenario.name if scenario else None, "task_id": task_id}
        try:
            if effect is not None and effect.reply is not None:
                raise Answer(self._reply(op, effect.reply))
            response = self._read_owned_task(request, op, task_id, now)
        except Answer as answer:
            raise Answer(self._finish(answer.response, effect), **notes, **answer.notes) from None
        raise Answer(self._finish(response, effect), **notes)

    def _read_owned_task(
        self, request: Request, op: Operation, task_id: str, now: float
    ) -> Response:
        token, profile = self._authenticate(request, op)
        self._gate(op, token, profile, now)
        balance = self.accounts.balance(token, profile)
        if balance is not None and balance < 0:
            raise Answer(documented(op.error(402)))
        if not task_id.startswith(TASK_ID_PREFIX):
            raise Answer(documented(op.error(400)), violations=["task_id: bad prefix"])
        self._purge(now)
        record = self.store.get(task_id)
        if record is None or record.expires_at() <= now:
            raise Answer(documented(op.error(404)))
        if record.task.token != token:
            raise Answer(documented(op.error(403)))
        ended_before = record.ended_at is not None
        seen = record.read(now)
        self.store.save(record)
        ended_now = seen.terminal and not ended_before and record.ended_at is not None
        if ended_now and record.task.plan.counts_polls and record.task.callback_url:
            # A task whose end waits for polls ends at this read: its callback is due now.
            self.outbox.schedule(record.task.id, now)
        return Response.json(200, self.render(record, seen, now))

    # -- scenarios ----------------------------------------------------------------------

    def _choose(
        self,
        op: Operation,
        operation: str,
        request: Request,
        token: str | None,
        body: Mapping[str, Any] | None,
        record: TaskRecord | None,
    ) -> tuple[Scenario | None, Effect | None]:
        """The scenario for this call and the effect it has now (bursts counted).

        Precedence: a ``Prefer`` header decides alone. Otherwise, for a poll, the scenario
        the task was created under, if it has an effect on polls; then the first matching
        file scenario. The task's lifecycle always stays the one it was created with.
        """
        preferences = parse_prefer(request.headers.get("prefer"))
        scenario = None
        if "scenario" in preferences:
            scenario = self.scenarios.get(preferences["scenario"])
            if scenario is None:
                wanted = preferences["scenario"]
                message = f"Prefer: unknown scenario {wanted!r}; GET /__mock/scenarios lists them"
                raise Answer(documented(op.error(400), message), violations=["unknown scenario"])
        if "example" in preferences:
            raise Answer(self._example(op, preferences["example"]), prefer=preferences)
        if "code" in preferences:
            reply = self._preferred_code(op, preferences["code"])
            if reply is not None:
                return scenario, Effect(reply=reply)
        if scenario is not None:
            return scenario, self._use_effect(scenario, operation, token, record)
        own = None
        if record is not None and record.task.scenario is not None:
            own = self.scenarios.get(record.task.scenario)
            effect = self._use_effect(own, operation, token, record) if own else None
            if effect is not None:
                return own, effect
        # The task's own scenario says nothing about this call: a file rule may.
        matched = self.scenarios.first_match(operation, request.path, token, request.headers, body)
        if matched is None:
            return own, None
        return matched, self._use_effect(matched, operation, token, record)

    def _use_effect(
        self, scenario: Scenario, operation: str, token: str | None, record: TaskRecord | None
    ) -> Effect | None:
        """The scenario's effect on this call, counting it against a burst's ``times``."""
        effect = scenario.effect(operation)
        if effect is None or effect.times is None:
            return effect
        # Bursts count per task for polls of a task, else per token: parallel tests that use
        # their own tokens or tasks never consume each other's burst.
        subject = record.task.id if record is not None else (token or "")
        key = (scenario.name, operation, subject)
        used = self._effect_counts.get(key, 0)
        if used >= effect.times:
            return None
        self._effect_counts[key] = used + 1
        return effect

    def _preferred_code(self, op: Operation, value: str) -> ErrorReply | None:
        if value.isdigit() and int(value) in op.errors:
            return ErrorReply(int(value))
        if value.isdigit() and int(value) in (200, 201):
            return None
        documented_codes = ", ".join(str(s) for s in op.statuses)
        raise Answer(
            documented(
                op.error(400),
                f"Prefer: code={value} is not documented for {op.operation_id} "
                f"(documented: {documented_codes})",
            ),
            violations=["undocumented Prefer code"],
        )

    def _example(self, op: Operation, name: str) -> Response:
        found = self.contract.named_example(op.operation_id, name)
        if found is None:
            available = ", ".join(self.contract.example_names(op.operation_id)) or "none"
            return documented(
                op.error(400),
                f"Prefer: example={name!r} is not an example of {op.operation_id} "
                f"(available: {available})",
            )
        status, value = found
        return Response.json(status, value)

    def _reply(self, op: Operation, reply: ErrorReply) -> Response:
        error = op.error(reply.status)
        body = error.envelope(reply.message, reply.param)
        for key in ("code", "type"):
            if getattr(reply, key) is not None:
                body["error"][key] = getattr(reply, key)
        headers = list(reply.headers)
        if reply.status == 429 and not any(k == "retry-after" for k, _ in headers):
            headers.append(
                ("retry-after", str(reply.retry_after if reply.retry_after is not None else 1))
            )
        return Response.json(reply.status, body, headers)

    def _finish(self, response: Response, effect: Effect | None) -> Response:
        """Apply an effect's latency and fault to the response it decided or let through."""
        if effect is None:
            return response
        delay = self._random.uniform(*effect.latency) if effect.latency else 0.0
        fault = effect.fault
        if fault == "timeout":
            return dataclasses.replace(
                response, delay=delay if effect.latency else TIMEOUT_FAULT_SECONDS
            )
        if fault == "malformed_body":
            return dataclasses.replace(
                response, body=response.body[: len(response.body) // 2], delay=delay
            )
        if fault == "wrong_content_type":
            headers = tuple(
                (k, "text/html; charset=utf-8") if k == "content-type" else (k, v)
                for k, v in response.headers
            )
            return dataclasses.replace(response, headers=headers, delay=delay)
        return dataclasses.replace(response, delay=delay, fault=fault)

    # -- shared steps --------------------------------------------------------------------

    def _authenticate(self, request: Request, op: Operation) -> tuple[str, TokenProfile]:
        token = _bearer_token(request)
        if token is None:
            header = request.headers.get("authorization")
            why = "missing Authorization header" if header is None else "malformed bearer token"
            raise Answer(documented(op.error(401)), violations=[why])
        profile = self.config.token_profile(token)
        if profile is None:
            raise Answer(documented(op.error(401)), violations=["unknown token"])
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
            body = _strict_json(request.body)
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

    # -- rendering -------------------------------------------------------------------------

    def render(self, record: TaskRecord, seen: Observation, now: float) -> dict[str, Any]:
        """The task as the API shows it in state ``seen`` at mock time ``now``."""
        task = record.task
        defaults = task.defaults
        body: dict[str, Any] = {
            "created": task.created,
            "id": task.id,
            "model": task.model,
            "object": "video.generation.task",
            "progress": seen.progress,
            "status": seen.status,
            "task_info": {
                "can_cancel": not seen.terminal,
                "estimated_time": defaults.estimated_time,
                "video_duration": defaults.video_duration,
            },
            "type": "video",
            "usage": {
                "billing_rule": defaults.billing_rule,
                "credits_reserved": defaults.credits_reserved,
                "user_group": defaults.user_group,
            },
        }
        if seen.status == "completed":
            ended_at = record.ended_at if record.ended_at is not None else record.natural_end(now)
            url = picture_url(task, ended_at + defaults.profile_picture_ttl)
            body["result_data"] = {
                "character_name": task.character_name,
                "profile_picture_url": url,
            }
            body["results"] = [url]
        elif seen.status == "failed":
            failure = task.plan.failure
            body["error"] = {"code": failure.code, "message": failure.message, "type": "task_error"}
        return body

    # -- identifiers ---------------------------------------------------------------------

    def _new_task_id(self, now: float) -> str:
        while True:
            task_id = f"{TASK_ID_PREFIX}{int(now)}-{self._random_text(_ID_ALPHABET)}"
            if task_id not in self.store:
                return task_id

    def _new_character_name(self) -> str:
        return "chr_" + self._random_text(_NAME_ALPHABET)

    def _random_text(self, alphabet: str, length: int = 8) -> str:
        # One draw of random bits spelled in ``alphabet``: uniform, seeded, and a fraction
        # of the cost of ``choices``.
        base = len(alphabet)
        number = self._random.randrange(base**length)
        letters = []
        for _ in range(length):
            number, digit = divmod(number, base)
            letters.append(alphabet[digit])
        return "".join(letters)


# -- helpers ---------------------------------------------------------------------------------


def picture_url(task: Task, expires: float) -> str:
    """The profile picture link of ``task``, served by the mock until ``expires``."""
    return f"{task.base_url}{MOCK_PREFIX}files/{task.id}/profile.png?expires={int(expires)}"


def parse_prefer(header: str | None) -> dict[str, str]:
    """The ``key=value`` preferences of a ``Prefer`` header (RFC 7240), keys lower case."""
    if not header:
        return {}
    preferences = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key and value:
            preferences[key.strip().lower()] = value.strip().strip('"')
    return preferences


def _bearer_token(request: Request) -> str | None:
    return _token_from_header(request.headers.get("authorization"))


@functools.lru_cache(maxsize=4096)
def _token_from_header(header: str | None) -> str | None:
    # Cached: a request asks for its token several times, and clients reuse theirs.
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    if not set(token) <= _BEARER_TOKEN:
        return None
    return token


def _route_name(request: Request) -> str | None:
    return "mock" if request.path.startswith(MOCK_PREFIX) else None


def _error_param(error: Any) -> str | None:
    path = list(error.instance_path)
    if path:
        return str(path[0])
    kind = error.kind
    if type(kind).__name__ == "Required":
        return str(kind.property)
    return None


_FIELD_ORDER = {"model": 0, "video_url": 1, "timestamps": 2, "callback_url": 3}


def _error_order(error: Any) -> tuple[int, str]:
    param = _error_param(error) or ""
    return _FIELD_ORDER.get(param, 9), param


def _strict_json(raw: bytes) -> Any:
    """JSON that refuses duplicate keys and the non-standard NaN and Infinity."""
    return _STRICT_DECODER.decode(raw.decode("utf-8"))


def _loose_json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object for scenario matching, or None when it is not one."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant
)
