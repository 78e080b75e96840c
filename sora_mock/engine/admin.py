"""The mock's own routes under ``/__mock/``: health, task files, the spec, the admin API and
the live page (``/__mock/``, behind the admin API's guard).

Health, task files (a completed task's picture or video) and the spec are public.
Everything else controls or reveals the mock's state, so it answers only in-process
clients, and loopback clients whose ``Host`` is a loopback name (or clients that send the
configured admin token in ``X-Sora-Admin-Token``). A web page the developer visits must not
drive it: a state-changing request is refused when it comes from a foreign ``Origin`` or
carries a body a page may send without asking (a form or text). The routes are documented
in ``spec/mock-admin.yaml``.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sora_mock.contract import (
    Contract,
    Request,
    Response,
    loopback_authority,
    loopback_host,
)
from sora_mock.engine.clock import AdjustableClock, Clock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.files import file_content
from sora_mock.engine.journal import Journal
from sora_mock.engine.journal_view import JournalQuery, entry_view
from sora_mock.engine.lifecycle import Observation
from sora_mock.engine.page import page_file
from sora_mock.engine.rendering import MOCK_PREFIX, end_time, link_signature
from sora_mock.engine.replies import Answer, method_not_allowed, mock_error, not_found
from sora_mock.engine.scenarios.book import Scenario, ScenarioBook, scenarios_from_text
from sora_mock.engine.store.task import Task, TaskStorage
from sora_mock.errors import ConfigError

ADMIN_TOKEN_HEADER = "x-sora-admin-token"
#: The body types a state-changing admin request may carry (a web page cannot send these to
#: another origin without the browser asking first).
ADMIN_BODY_TYPES = frozenset({"application/json", "application/yaml", "application/x-yaml"})
#: Methods that only read.
_READS = frozenset({"GET", "HEAD"})
EXPIRED_LINK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
)
UNSIGNED_LINK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code>"
    b"<Message>Request signature is missing or does not match</Message></Error>"
)


class MockState(Protocol):
    """What the routes read and change of the mock: the engine, seen from here."""

    @property
    def store(self) -> TaskStorage: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def config(self) -> MockConfig: ...

    @property
    def contract(self) -> Contract: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def scenarios(self) -> ScenarioBook: ...

    @property
    def link_secret(self) -> bytes: ...

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]: ...

    def reset(self) -> None: ...

    def load_scenarios(self, scenarios: Iterable[Scenario], *, replace: bool = True) -> None: ...


Handler = Callable[[MockState, Request, float, list[str]], Response]


def answer_mock_route(engine: MockState, request: Request, now: float) -> Response:
    """Answer a request whose path starts with ``/__mock/``."""
    try:
        return _route(engine, request, now)
    except Answer as refusal:
        return refusal.response


def _route(engine: MockState, request: Request, now: float) -> Response:
    parts = request.path[len(MOCK_PREFIX) :].split("/")
    if parts == ["health"]:
        _require(request, "GET")
        return Response.json(200, {"status": "ok", "tasks": len(engine.store)})
    if len(parts) == 3 and parts[0] == "files":
        _require(request, "GET")
        return _task_file(engine, request, parts[1], parts[2], now)
    if parts == ["spec"]:
        _require(request, "GET")
        return spec_response(engine.contract)
    route = _ROUTES.get(parts[0]) if parts else None
    if route is not None:
        _guard(engine, request)
        return route(engine, request, now, parts[1:])
    page = page_file(parts[0]) if len(parts) == 1 else None
    if page is None:
        raise Answer(not_found(request))
    _guard(engine, request)
    _require(request, "GET")
    return page


def _guard(engine: MockState, request: Request) -> None:
    refusal = _admin_refusal(engine, request)
    if refusal is not None:
        raise Answer(mock_error(403, "admin_forbidden", refusal))


def admin_exposure_warning(host: str, config: MockConfig) -> str | None:
    """One line to print when the server listens on ``host`` beyond loopback with no admin
    token: the admin API stays off for every client but loopback ones. None otherwise."""
    if config.admin_token is not None or loopback_host(host.strip("[]")):
        return None
    where = host or "every address"
    return (
        f"warning: listening on {where}, beyond loopback, with no admin token: the admin API "
        "under /__mock/ answers loopback clients only (set admin.token in the settings to "
        "use it from elsewhere)"
    )


# -- admin routes ----------------------------------------------------------------------------


def _tasks(engine: MockState, request: Request, now: float, rest: list[str]) -> Response:
    _require(request, "GET")
    if not rest:
        status = request.query_params.get("status")
        views = [_task_view(engine, t, now) for t in engine.store]
        views = [v for v in views if status is None or v["status"] == status]
        return Response.json(200, {"tasks": views, "count": len(views)})
    task = engine.store.get("/".join(rest))
    if task is None:
        return mock_error(404, "task_not_found", "The requested task could not be found")
    view = _task_view(engine, task, now)
    view["body"] = engine.render(task, task.shown(now), now)
    return Response.json(200, view)


def _reset(engine: MockState, request: Request, now: float, rest: list[str]) -> Response:
    _require(request, "POST", rest)
    engine.reset()
    engine.load_scenarios(engine.config.scenarios)  # those the mock started with
    return Response.json(200, {"reset": True})


def _clock(engine: MockState, request: Request, now: float, rest: list[str]) -> Response:
    clock = engine.clock
    if not rest:
        _require(request, "GET")
        return Response.json(200, _clock_view(engine, now))
    if rest not in (["advance"], ["set"]):
        return not_found(request)
    _require(request, "POST")
    if not isinstance(clock, AdjustableClock):
        return mock_error(409, "clock_not_adjustable", "This mock's clock cannot be moved")
    data = _json_object(request)
    field = "seconds" if rest == ["advance"] else "time"
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _bad(f'body must be {{"{field}": <number>}}')
    try:
        clock.advance(value) if field == "seconds" else clock.set(value)
    except ValueError as exc:
        return _bad(str(exc))
    return Response.json(200, _clock_view(engine, clock.now()))


def _scenarios(engine: MockState, request: Request, now: float, rest: list[str]) -> Response:
    if rest:
        return not_found(request)
    if request.method == "GET":
        listing = [s.summary() for s in engine.scenarios]
        return Response.json(200, {"scenarios": listing, "count": len(listing)})
    if request.method not in ("PUT", "POST"):
        raise Answer(method_not_allowed(request, "GET, PUT, POST"))
    try:
        text = request.body.decode("utf-8")
        loaded = scenarios_from_text(text, "<request body>", engine.contract)
    except UnicodeDecodeError:
        return _bad("the body must be UTF-8 YAML or JSON")
    except ConfigError as exc:
        return _bad(str(exc))
    engine.load_scenarios(loaded, replace=request.method == "PUT")
    return Response.json(200, {"loaded": [s.name for s in loaded], "count": len(loaded)})


def _journal(engine: MockState, request: Request, now: float, rest: list[str]) -> Response:
    _require(request, "GET", rest)
    try:
        query = JournalQuery.from_params(request.query_params)
    except ValueError as exc:
        return _bad(str(exc))
    entries = [entry_view(e) for e in query.chosen(engine.journal)]
    return Response.json(200, {"entries": entries, "total": engine.journal.total})


_ROUTES: dict[str, Handler] = {
    "tasks": _tasks,
    "reset": _reset,
    "clock": _clock,
    "scenarios": _scenarios,
    "journal": _journal,
}


# -- helpers ---------------------------------------------------------------------------------


def spec_response(contract: Contract) -> Response:
    """The (merged) OpenAPI document the mock runs, as YAML."""
    return Response(200, (("content-type", "application/yaml"),), contract.as_yaml())


def _task_file(
    engine: MockState, request: Request, task_id: str, name: str, now: float
) -> Response:
    """A completed task's file (its ``file`` values), for a link the mock signed, until the
    link expires."""
    task = engine.store.get(task_id)
    model = engine.contract.tasks.models.get(task.model) if task is not None else None
    file = next((f for f in model.files.values() if f.name == name), None) if model else None
    if task is None or file is None or task.peek(now).status != "completed":
        return mock_error(404, "not_found", "No such file")
    params = request.query_params
    expires = params.get("expires", "")
    signature = params.get("signature", "")
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 20):
        return _denied(UNSIGNED_LINK_BODY)
    expected = link_signature(engine.link_secret, task_id, name, int(expires))
    if not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode()):
        return _denied(UNSIGNED_LINK_BODY)
    if now >= int(expires):
        return _denied(EXPIRED_LINK_BODY)
    cache = f"private, max-age={int(int(expires) - now)}"
    headers = (("content-type", file.media_type), ("cache-control", cache))
    return Response(200, headers, file_content(file.media_type, task_id))


def _denied(body: bytes) -> Response:
    return Response(403, (("content-type", "application/xml"),), body)


def _task_view(engine: MockState, task: Task, now: float) -> dict[str, Any]:
    """A task as the admin routes list it. ``ended_at`` is the mock time it ended, given
    exactly when the state shown is terminal, else None."""
    seen = task.shown(now)
    return {
        "id": task.id,
        "token": engine.store.shown_token(task),
        "status": seen.status,
        "progress": seen.progress,
        "scenario": task.scenario,
        "created": task.created,
        "polls": task.polls,
        "ended_at": end_time(task, now) if seen.terminal else None,
        "callback_url": task.callback_url,
        "lifecycle": _lifecycle_view(task),
    }


def _lifecycle_view(task: Task) -> dict[str, Any]:
    """The plan ``task`` lives by: when it leaves pending and when it ends, in mock time and
    in status reads (a state lasts until both are over), and how it ends."""
    plan = task.plan
    ends = task.created_at + plan.seconds_to_end
    return {
        "processing_at": task.created_at + plan.pending_seconds,
        "processing_after_polls": plan.pending_polls,
        "ends_at": None if math.isinf(ends) else ends,
        "ends_after_polls": plan.pending_polls + plan.processing_polls,
        "outcome": plan.outcome,
        "failure_code": plan.failure.code if plan.outcome == "failed" else None,
    }


def _clock_view(engine: MockState, now: float) -> dict[str, Any]:
    return {
        "now": now,
        "kind": type(engine.clock).__name__,
        "speed": getattr(engine.clock, "speed", None),
    }


def _admin_refusal(engine: MockState, request: Request) -> str | None:
    """Why an admin route refuses ``request`` (the 403's message), or None to serve it."""
    if request.client is None:  # in-process: the test itself is the client
        return None
    token = engine.config.admin_token
    sent = request.headers.get(ADMIN_TOKEN_HEADER)
    with_token = token is not None and sent is not None and _same(sent, token)
    if not with_token:
        if not loopback_host(request.client):
            return "The admin API answers loopback clients, or clients with the admin token"
        host = request.headers.get("host")
        if host is not None and not loopback_authority(host):
            return (
                "The admin API answers requests addressed to localhost, 127.0.0.1 or [::1] "
                f"(or with the admin token), not to Host {_shown(host)}"
            )
    if request.method in _READS:
        return None
    origin = request.headers.get("origin")
    if origin is not None and not _loopback_origin(origin):
        return f"The admin API takes no state change from a page of origin {_shown(origin)}"
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "The admin API takes no state change from a page of another site"
    content_type = request.headers.get("content-type", "")
    if request.body and content_type.split(";", 1)[0].strip().lower() not in ADMIN_BODY_TYPES:
        return (
            "A state-changing admin request has no body or a JSON one (YAML for scenarios), "
            f"not {_shown(content_type) if content_type else 'one without a Content-Type'}"
        )
    return None


def _same(sent: str, token: str) -> bool:
    return hmac.compare_digest(sent.encode("utf-8", "replace"), token.encode("utf-8", "replace"))


def _loopback_origin(origin: str) -> bool:
    """True for ``http(s)://`` and a loopback authority, as browsers write an origin."""
    scheme, sep, authority = origin.strip().partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return False
    return "/" not in authority and "@" not in authority and loopback_authority(authority)


def _shown(value: str) -> str:
    """A header value for a message: quoted, at most 100 characters."""
    return repr(value[:100])


def _require(request: Request, method: str, rest: list[str] | None = None) -> None:
    if rest:
        raise Answer(not_found(request))
    if request.method != method:
        raise Answer(method_not_allowed(request, method))


def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        raise Answer(_bad("the body must be a JSON object")) from None
    if not isinstance(data, dict):
        raise Answer(_bad("the body must be a JSON object"))
    return data


def _bad(message: str) -> Response:
    return mock_error(400, "invalid_request", message)
