"""The engine: one synchronous, I/O-free function from a request to the contract's answer.

Every door (the ASGI app, the httpx transport) turns its request into a
:class:`~sora_mock.messages.Request`, calls :meth:`Engine.handle`, and writes the
:class:`~sora_mock.messages.Response` back. The engine reads the compiled contract, the
configuration, a clock and its task store; it never reads the system time or does I/O.

Example::

    engine = Engine(clock=VirtualClock(), seed=1)
    response = engine.handle(Request.build("POST", "/v1/videos/generations", ...))
"""

from __future__ import annotations

import json
import random
import string
import threading
from collections.abc import Mapping
from typing import Any

from sora_mock.accounts import Accounts
from sora_mock.clock import Clock, RealClock
from sora_mock.config import Lifecycle, MockConfig, TokenProfile
from sora_mock.contract import Contract, DocumentedError, Operation
from sora_mock.images import profile_picture
from sora_mock.journal import Journal, mask_token
from sora_mock.lifecycle import TERMINAL
from sora_mock.messages import Request, Response
from sora_mock.rules import (
    DEFAULT_TIMESTAMPS,
    callback_url_problem,
    parse_timestamps,
    video_url_problem,
)
from sora_mock.store import Task, TaskStore

CREATE = "createCharacterGeneration"
GET_TASK = "getTaskDetail"
TASK_ID_PREFIX = "task-unified-"
MOCK_PREFIX = "/__mock/"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_NAME_ALPHABET = string.ascii_letters + string.digits
_BEARER_TOKEN = frozenset(string.ascii_letters + string.digits + "-._~+/=")


class _Answer(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the engine to stop at the first rule that decides the response."""

    def __init__(self, response: Response, **notes: Any) -> None:
        self.response = response
        self.notes = notes


class Engine:
    """The mock's behaviour. Thread-safe: one lock serialises :meth:`handle`."""

    def __init__(
        self,
        contract: Contract | None = None,
        config: MockConfig | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        self.contract = contract or Contract.bundled()
        self.config = config or MockConfig.defaults()
        self.clock: Clock = clock or RealClock(self.config.speed)
        self.seed = seed
        self.store = TaskStore()
        self.accounts = Accounts()
        self.journal = Journal(self.config.journal_size)
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._request_counter = 0
        # Compile now, so the first request pays nothing.
        self._body_validators = self.contract.request_validators
        self._create = self.contract.operation(CREATE)
        self._get_task = self.contract.operation(GET_TASK)

    # -- the entry point ---------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as the contract, configuration, clock and store say."""
        with self._lock:
            now = self.clock.now()
            self._request_counter += 1
            request_id = f"req-{self._request_counter:08d}"
            notes: dict[str, Any] = {}
            try:
                response = self._route(request, now)
            except _Answer as answer:
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
            return Response(
                response.status, (*response.headers, ("x-request-id", request_id)), response.body
            )

    def reset(self) -> None:
        """Forget every task, spent credit, rate-limit window and journal entry."""
        with self._lock:
            self.store.clear()
            self.accounts.reset()
            self.journal.clear()
            self._random = random.Random(self.seed)
            self._request_counter = 0

    # -- routing -------------------------------------------------------------------------

    def _route(self, request: Request, now: float) -> Response:
        if request.path.startswith(MOCK_PREFIX):
            return self._mock_route(request, now)
        match = self.contract.match(request.method, request.path)
        if match.operation is None:
            if match.allowed:
                allow = ", ".join(match.allowed)
                raise _Answer(
                    _envelope(
                        405,
                        "method_not_allowed",
                        f"Method {request.method} is not allowed here; use {allow}",
                        headers=(("allow", allow),),
                    )
                )
            raise _Answer(
                _envelope(404, "not_found", f"No route for {request.method} {request.path}")
            )
        operation = match.operation
        try:
            if operation is self._create:
                return self._create_task(request, now)
            return self._read_task(request, match.path_params["task_id"], now)
        except _Answer as answer:
            answer.notes.setdefault("operation", operation.operation_id)
            raise

    # -- POST /v1/videos/generations -----------------------------------------------------

    def _create_task(self, request: Request, now: float) -> Response:
        op = self._create
        if request.oversized or len(request.body) > self.config.max_body_bytes:
            limit = self.config.max_body_bytes
            raise _Answer(
                _documented(op.error(413), f"Request body too large: the limit is {limit} bytes")
            )
        token, profile = self._authenticate(request, op)
        self._gate(op, token, profile, now)
        body = self._json_body(request, op)
        self._validate_create(body, op)
        model = body["model"]
        if model not in profile.models:
            raise _Answer(
                _documented(op.error(403), f"Token does not have access to model: {model}")
            )
        cost = self.config.task.credits_reserved
        if not self.accounts.can_afford(token, profile, cost):
            raise _Answer(_documented(op.error(402)))
        self.accounts.charge(token, cost)
        task = Task(
            id=self._new_task_id(now),
            token=token,
            created_at=now,
            model=model,
            plan=self._plan_for(token, body),
            defaults=self.config.task,
            character_name=self._new_character_name(),
            video_url=body["video_url"],
            timestamps=body.get("timestamps", DEFAULT_TIMESTAMPS),
            callback_url=body.get("callback_url"),
        )
        self.store.purge(now)
        self.store.add(task)
        raise _Answer(Response.json(200, self.render(task, now, request.base_url)), task_id=task.id)

    def _plan_for(self, token: str, body: Mapping[str, Any]) -> Lifecycle:
        """The lifecycle a new task follows (scenarios will choose it; today the default)."""
        return self.config.lifecycle

    def _validate_create(self, body: Mapping[str, Any], op: Operation) -> None:
        validator = self._body_validators[op.operation_id]
        errors = sorted(validator.iter_errors(body), key=_error_order)
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
            raise _Answer(
                _documented(op.error(400), message, param), violations=[f"{param}: {first.message}"]
            )
        problem = video_url_problem(body["video_url"])
        if problem:
            raise _Answer(_documented(op.error(400), problem, "video_url"), violations=[problem])
        parsed = parse_timestamps(body.get("timestamps", DEFAULT_TIMESTAMPS))
        if isinstance(parsed, str):
            raise _Answer(_documented(op.error(400), parsed, "timestamps"), violations=[parsed])
        callback = body.get("callback_url")
        if callback is not None:
            problem = callback_url_problem(
                callback, allow_loopback=self.config.allow_loopback_callbacks
            )
            if problem:
                raise _Answer(
                    _documented(op.error(400), problem, "callback_url"), violations=[problem]
                )

    # -- GET /v1/tasks/{task_id} -------------------------------------------------------

    def _read_task(self, request: Request, task_id: str, now: float) -> Response:
        op = self._get_task
        token, profile = self._authenticate(request, op)
        self._gate(op, token, profile, now)
        balance = self.accounts.balance(token, profile)
        if balance is not None and balance < 0:
            raise _Answer(_documented(op.error(402)))
        if not task_id.startswith(TASK_ID_PREFIX):
            raise _Answer(_documented(op.error(400)), violations=["task_id: bad prefix"])
        self.store.purge(now)
        task = self.store.get(task_id)
        if task is None:
            raise _Answer(_documented(op.error(404)))
        if task.token != token:
            raise _Answer(_documented(op.error(403)), task_id=task_id)
        raise _Answer(
            Response.json(200, self.render(task, now, request.base_url)),
            task_id=task_id,
            scenario=task.scenario,
        )

    # -- shared steps --------------------------------------------------------------------

    def _authenticate(self, request: Request, op: Operation) -> tuple[str, TokenProfile]:
        token = _bearer_token(request)
        if token is None:
            header = request.headers.get("authorization")
            why = "missing Authorization header" if header is None else "malformed bearer token"
            raise _Answer(_documented(op.error(401)), violations=[why])
        profile = self.config.token_profile(token)
        if profile is None:
            raise _Answer(_documented(op.error(401)), violations=["unknown token"])
        return token, profile

    def _gate(self, op: Operation, token: str, profile: TokenProfile, now: float) -> None:
        retry_after = self.accounts.retry_after(token, profile, now)
        if retry_after is not None:
            raise _Answer(_documented(op.error(429), headers=(("retry-after", str(retry_after)),)))
        if profile.fault == "internal_error":
            raise _Answer(_documented(op.error(500)))

    def _json_body(self, request: Request, op: Operation) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            shown = content_type or "none"
            raise _Answer(
                _documented(op.error(400), f"Content-Type must be application/json, got {shown}"),
                violations=["content-type"],
            )
        try:
            body = json.loads(
                request.body.decode("utf-8"),
                object_pairs_hook=_no_duplicate_keys,
                parse_constant=_no_constant,
            )
        except (ValueError, RecursionError) as exc:
            reason = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
            raise _Answer(
                _documented(op.error(400), f"Malformed JSON body: {reason}"),
                violations=["malformed JSON"],
            ) from None
        if not isinstance(body, dict):
            raise _Answer(
                _documented(op.error(400), "Request body must be a JSON object"),
                violations=["body is not an object"],
            )
        return body

    # -- rendering -------------------------------------------------------------------------

    def render(self, task: Task, now: float, base_url: str) -> dict[str, Any]:
        """The task as the API shows it at mock time ``now``."""
        seen = task.observe(now)
        defaults = task.defaults
        body: dict[str, Any] = {
            "created": task.created,
            "id": task.id,
            "model": task.model,
            "object": "video.generation.task",
            "progress": seen.progress,
            "status": seen.status,
            "task_info": {
                "can_cancel": seen.status not in TERMINAL,
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
        if seen.status == "completed" and seen.ended_at is not None:
            expires = int(seen.ended_at + defaults.profile_picture_ttl)
            url = f"{base_url}{MOCK_PREFIX}files/{task.id}/profile.png?expires={expires}"
            body["result_data"] = {
                "character_name": task.character_name,
                "profile_picture_url": url,
            }
            body["results"] = [url]
        elif seen.status == "failed":
            failure = task.plan.failure
            body["error"] = {"code": failure.code, "message": failure.message, "type": "task_error"}
        return body

    # -- mock-only routes ------------------------------------------------------------------

    def _mock_route(self, request: Request, now: float) -> Response:
        parts = request.path[len(MOCK_PREFIX) :].split("/")
        if parts == ["health"]:
            if request.method != "GET":
                raise _Answer(_method_not_allowed(request, "GET"))
            return Response.json(200, {"status": "ok", "tasks": len(self.store)})
        if len(parts) == 3 and parts[0] == "files" and parts[2] == "profile.png":
            if request.method != "GET":
                raise _Answer(_method_not_allowed(request, "GET"))
            return self._profile_picture(parts[1], now)
        raise _Answer(_envelope(404, "not_found", f"No route for {request.method} {request.path}"))

    def _profile_picture(self, task_id: str, now: float) -> Response:
        task = self.store.get(task_id)
        seen = task.observe(now) if task else None
        if task is None or seen is None or seen.status != "completed" or seen.ended_at is None:
            raise _Answer(_envelope(404, "not_found", "No such file"))
        if now >= seen.ended_at + task.defaults.profile_picture_ttl:
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                b"<Message>Request has expired</Message></Error>"
            )
            return Response(403, (("content-type", "application/xml"),), body)
        return Response(
            200,
            (("content-type", "image/png"), ("cache-control", "private, max-age=86400")),
            profile_picture(task.id),
        )

    # -- identifiers ---------------------------------------------------------------------

    def _new_task_id(self, now: float) -> str:
        while True:
            suffix = "".join(self._random.choices(_ID_ALPHABET, k=8))
            task_id = f"{TASK_ID_PREFIX}{int(now)}-{suffix}"
            if task_id not in self.store:
                return task_id

    def _new_character_name(self) -> str:
        return "chr_" + "".join(self._random.choices(_NAME_ALPHABET, k=8))


# -- helpers ---------------------------------------------------------------------------------


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    if not set(token) <= _BEARER_TOKEN:
        return None
    return token


def _documented(
    error: DocumentedError,
    message: str | None = None,
    param: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    return Response.json(error.status, error.envelope(message, param), headers)


def _envelope(
    status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = {"error": {"code": code, "message": message, "type": "invalid_request_error"}}
    return Response.json(status, body, headers)


def _method_not_allowed(request: Request, allow: str) -> Response:
    return _envelope(
        405,
        "method_not_allowed",
        f"Method {request.method} is not allowed here; use {allow}",
        headers=(("allow", allow),),
    )


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


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
