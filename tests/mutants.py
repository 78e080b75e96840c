"""Deliberately broken servers: each is the mock with one contract rule broken.

Each mutant subclasses :class:`Engine` and rewrites the request going in or the response
coming out of :meth:`Engine.handle`, so it is the real mock in every other respect. Served
with :class:`BackgroundServer`, the checker must flag each with the rule named in
:data:`MUTANTS`. Time moves ``STEP`` mock seconds on every task poll (a virtual clock), so a
whole lifecycle takes a handful of polls and no real waiting.

The benchmark (``bench/checker_vs_schemathesis.py``) serves the same mutants.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sora_mock.contract import Request, Response
from sora_mock.engine import Engine, MockConfig, VirtualClock

STEP = 20.0  # mock seconds per task poll
CREATE = "/v1/videos/generations"


class Mutant(Engine):
    """The mock, with hooks to break one rule. The base class breaks nothing (the control)."""

    def __init__(self) -> None:
        super().__init__(config=_config(), clock=VirtualClock(), seed=3)
        self.polls: dict[str, int] = {}

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path.startswith("/v1/tasks/"):
            self.clock.advance(STEP)  # type: ignore[attr-defined]
            task_id = request.path.rsplit("/", 1)[1]
            self.polls[task_id] = self.polls.get(task_id, 0) + 1
        request = self.mutate_request(request)
        return self.mutate_response(request, super().handle(request))

    def mutate_request(self, request: Request) -> Request:
        return request

    def mutate_response(self, request: Request, response: Response) -> Response:
        body = _json(response)
        if isinstance(body, dict) and "status" in body and response.status == 200:
            changed = self.mutate_task(request, body)
            if changed is not None:
                return _with_body(response, changed)
        return response

    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        """Return a changed task body, or None to leave it."""
        return None


# -- status codes, schema, content type, envelopes -------------------------------------------


class Create201(Mutant):
    def mutate_response(self, request: Request, response: Response) -> Response:
        if request.path == CREATE and response.status == 200:
            return Response(201, response.headers, response.body)
        return response


class MissingUsage(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any]:
        task.pop("usage", None)
        return task


class ProgressOver100(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "processing":
            return None
        task["progress"] = 100 + task["progress"] + 1
        return task


class TextPlain(Mutant):
    def mutate_response(self, request: Request, response: Response) -> Response:
        headers = tuple(
            (k, "text/plain; charset=utf-8" if k.lower() == "content-type" else v)
            for k, v in response.headers
        )
        return Response(response.status, headers, response.body)


class FlatErrorEnvelope(Mutant):
    def mutate_response(self, request: Request, response: Response) -> Response:
        body = _json(response)
        if response.status >= 400 and isinstance(body, dict) and "error" in body:
            return _with_body(response, body["error"])
        return response


class WrongParam(Mutant):
    def mutate_response(self, request: Request, response: Response) -> Response:
        body = _json(response)
        if response.status == 400 and isinstance(body, dict) and "param" in body.get("error", {}):
            body["error"]["param"] = "body"
            return _with_body(response, body)
        return response


class UnknownTask400(Mutant):
    def mutate_response(self, request: Request, response: Response) -> Response:
        if response.status == 404 and request.path.startswith("/v1/tasks/"):
            body = {
                "error": {
                    "code": "invalid_task_id",
                    "message": "Invalid task ID format, must start with 'task-unified-'",
                    "type": "invalid_request_error",
                    "param": "task_id",
                }
            }
            return Response.json(400, body)
        return response


class CrashOnDecimalTimestamps(Mutant):
    """A parser bug: any timestamps value with a decimal point crashes the handler."""

    def handle(self, request: Request) -> Response:
        if request.path == CREATE and re.search(rb'"timestamps":\s*"[^"]*\.', request.body):
            return Response(500, (("content-type", "text/plain"),), b"Internal Server Error")
        return super().handle(request)


class MissingRetryAfter(Mutant):
    """Rate-limits the fifth request, without saying when to retry."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle(self, request: Request) -> Response:
        self.count += 1
        if self.count == 5:
            body = {
                "error": {
                    "code": "rate_limit_exceeded",
                    "message": "Too many requests, please try again later",
                    "type": "rate_limit_error",
                }
            }
            return Response.json(429, body)
        return super().handle(request)


# -- validation and auth -------------------------------------------------------------------


class AcceptsBadExtension(Mutant):
    """Skips the extension rule: any URL is rewritten to .mp4 before the mock sees it."""

    def mutate_request(self, request: Request) -> Request:
        if request.path != CREATE:
            return request
        try:
            body = json.loads(request.body)
        except ValueError:
            return request
        url = body.get("video_url") if isinstance(body, dict) else None
        if isinstance(url, str) and url.startswith("https://") and "." in url[8:]:
            body["video_url"] = "https://example.com/accepted.mp4"
            return _with_request_body(request, body)
        return request


class IgnoresAuth(Mutant):
    """Treats a request without usable credentials as the default account."""

    def mutate_request(self, request: Request) -> Request:
        header = request.headers.get("authorization", "")
        token = header.partition(" ")[2].strip()
        if not header.startswith("Bearer ") or not token or " " in token:
            headers = {**request.headers, "authorization": "Bearer sk-anonymous-000"}
            return Request.build(
                request.method,
                request.path,
                query=request.query,
                headers=headers,
                body=request.body,
            )
        return request


class LeaksTasks(Mutant):
    """Serves a task to any token (reads it as its owner)."""

    def mutate_request(self, request: Request) -> Request:
        if request.method == "GET" and request.path.startswith("/v1/tasks/"):
            task = self.store.get(request.path.rsplit("/", 1)[1])
            if task is not None:
                headers = {**request.headers, "authorization": f"Bearer {task.token}"}
                return Request.build(request.method, request.path, headers=headers)
        return request


# -- the task lifecycle --------------------------------------------------------------------


class ResultOnPending(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "pending":
            return None
        task["result_data"] = {
            "character_name": "chr_early",
            "profile_picture_url": "https://example.com/p.png",
        }
        return task


class ErrorOnCompleted(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "completed":
            return None
        task["error"] = {"code": "unknown_error", "message": "oops", "type": "task_error"}
        return task


class CompletedWithoutResult(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "completed":
            return None
        task.pop("result_data", None)
        task.pop("results", None)
        return task


class StatusBackwards(Mutant):
    """Every other poll of a processing task says it is pending again."""

    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "processing" or self.polls.get(task["id"], 0) % 2:
            return None
        task["status"], task["progress"] = "pending", 0
        return task


class ProgressBackwards(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "processing":
            return None
        task["progress"] = 99 - task["progress"]
        return task


class TerminalFlip(Mutant):
    """A completed task turns failed when polled again."""

    def __init__(self) -> None:
        super().__init__()
        self.completed_seen: dict[str, int] = {}

    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "completed" or request.method != "GET":
            return None
        seen = self.completed_seen[task["id"]] = self.completed_seen.get(task["id"], 0) + 1
        if seen < 2:
            return None
        return _failed(task, progress=100)


class NeverFinishes(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] not in ("completed", "failed"):
            return None
        task.update(status="processing", progress=99)
        task["task_info"]["can_cancel"] = True
        task.pop("result_data", None)
        task.pop("results", None)
        return task


class CreatedDrifts(Mutant):
    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if request.method != "GET":
            return None
        task["created"] += self.polls.get(task["id"], 0)
        return task


class BadIdShape(Mutant):
    """Hands out ids with an upper-case suffix (and maps them back on the way in)."""

    def mutate_request(self, request: Request) -> Request:
        if request.path.startswith("/v1/tasks/"):
            return Request.build("GET", request.path.lower(), headers=request.headers)
        return request

    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any]:
        prefix, _, suffix = task["id"].rpartition("-")
        task["id"] = f"{prefix}-{suffix.upper()}"
        return task


class FailsWithProgressZero(Mutant):
    """Tasks fail, reporting progress 0 (as the vendor's example does): a warning only."""

    def mutate_task(self, request: Request, task: dict[str, Any]) -> dict[str, Any] | None:
        if task["status"] != "completed":
            return None
        return _failed(task, progress=0)


# -- the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class MutantSpec:
    """A broken server and the rule the checker must name for it (None: must pass)."""

    name: str
    factory: Callable[[], Mutant]
    rule: str | None
    breaks: str
    needs_other_token: bool = False


MUTANTS: tuple[MutantSpec, ...] = (
    MutantSpec("create_201", Create201, "status_code_conformance", "create answers 201"),
    MutantSpec("missing_usage", MissingUsage, "response_schema", "tasks lack required `usage`"),
    MutantSpec("progress_over_100", ProgressOver100, "response_schema", "progress > 100"),
    MutantSpec("status_backwards", StatusBackwards, "lifecycle_monotonic", "processing -> pending"),
    MutantSpec("progress_backwards", ProgressBackwards, "lifecycle_monotonic", "progress falls"),
    MutantSpec("terminal_flip", TerminalFlip, "terminal_sticky", "completed turns failed"),
    MutantSpec(
        "result_on_pending", ResultOnPending, "result_iff_completed", "result_data on pending"
    ),
    MutantSpec(
        "completed_without_result",
        CompletedWithoutResult,
        "result_iff_completed",
        "no result_data when completed",
    ),
    MutantSpec(
        "error_on_completed", ErrorOnCompleted, "error_iff_failed", "error on a completed task"
    ),
    MutantSpec(
        "accepts_bad_extension", AcceptsBadExtension, "negative_rejected", "200 for a .avi URL"
    ),
    MutantSpec("ignores_auth", IgnoresAuth, "auth_required", "no token still works"),
    MutantSpec("leaks_tasks", LeaksTasks, "token_isolation", "another token sees the task", True),
    MutantSpec(
        "crash_on_decimal_timestamps", CrashOnDecimalTimestamps, "no_5xx", "500 on '0.5,1.5'"
    ),
    MutantSpec("text_plain", TextPlain, "content_type", "text/plain responses"),
    MutantSpec(
        "flat_error_envelope",
        FlatErrorEnvelope,
        "error_envelope",
        "errors lack the `error` wrapper",
    ),
    MutantSpec("wrong_param", WrongParam, "error_envelope", "400s name the wrong param"),
    MutantSpec(
        "unknown_task_400", UnknownTask400, "status_code_conformance", "400 for unknown ids"
    ),
    MutantSpec("missing_retry_after", MissingRetryAfter, "retry_after", "429 without Retry-After"),
    MutantSpec("never_finishes", NeverFinishes, "lifecycle_terminates", "tasks never end"),
    MutantSpec("created_drifts", CreatedDrifts, "task_consistency", "`created` changes"),
    MutantSpec("bad_id_shape", BadIdShape, "id_shape", "ids with an upper-case suffix"),
)

#: Servers that keep the contract: the checker must pass them (warnings allowed).
CONTROLS: tuple[MutantSpec, ...] = (
    MutantSpec("control", Mutant, None, "the mock itself"),
    MutantSpec("fails_with_progress_zero", FailsWithProgressZero, None, "failed at progress 0"),
)


# -- helpers -------------------------------------------------------------------------------


@functools.cache
def _config() -> MockConfig:
    return MockConfig.defaults()


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _with_body(response: Response, body: Any) -> Response:
    headers = tuple((k, v) for k, v in response.headers if k.lower() != "content-type")
    return Response.json(response.status, body, headers)


def _with_request_body(request: Request, body: Any) -> Request:
    return Request.build(
        request.method,
        request.path,
        query=request.query,
        headers=request.headers,
        body=json.dumps(body).encode(),
        base_url=request.base_url,
    )


def _failed(task: dict[str, Any], progress: int) -> dict[str, Any]:
    task.pop("result_data", None)
    task.pop("results", None)
    task.update(status="failed", progress=progress)
    task["task_info"]["can_cancel"] = False
    task["error"] = {
        "code": "generation_failed_no_content",
        "message": "Generation failed.",
        "type": "task_error",
    }
    return task
