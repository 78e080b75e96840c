"""How a task looks in the API: the body of create and status answers, and callbacks."""

from __future__ import annotations

from typing import Any

import orjson

from sora_mock.contract import json_bytes
from sora_mock.engine.config import TaskDefaults
from sora_mock.engine.lifecycle import TERMINAL, Observation
from sora_mock.engine.store.task import Task

MOCK_PREFIX = "/__mock/"


def picture_url(task: Task, expires: float) -> str:
    """The profile picture link of ``task``, served by the mock until ``expires``."""
    return f"{task.base_url}{MOCK_PREFIX}files/{task.id}/profile.png?expires={int(expires)}"


def render_task(task: Task, seen: Observation, now: float) -> dict[str, Any]:
    """The task as the API shows it in state ``seen`` at mock time ``now``."""
    defaults = task.defaults
    body: dict[str, Any] = {
        "created": task.created,
        "id": task.id,
        "model": task.model,
        "object": "video.generation.task",
        "progress": seen.progress,
        "status": seen.status,
        "task_info": _task_info(defaults, can_cancel=seen.status not in TERMINAL),
        "type": "video",
        "usage": _usage(defaults),
    }
    if seen.status == "completed":
        ended_at = task.ended_at if task.ended_at is not None else task.natural_end(now)
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


def task_json(task: Task, seen: Observation, now: float) -> bytes:
    """``render_task`` written as JSON: the same bytes, built without the dict while the task
    runs (a running task's body differs from another's only in a few values)."""
    status = seen.status
    if status in TERMINAL:
        return json_bytes(render_task(task, seen, now))
    defaults = task.defaults
    key = (task.model, status, id(defaults))
    known = _RUNNING_TEMPLATES.get(key)
    if known is None or known[0] is not defaults:
        known = _running_template(key, defaults)
    # %d truncates a float as int() does: the creation time shows as task.created.
    return known[1] % (task.created_at, orjson.dumps(task.id), seen.progress)


#: Byte templates of running tasks' bodies, by model, status and ``id`` of the defaults.
_RUNNING_TEMPLATES: dict[tuple[str, str, int], tuple[TaskDefaults, bytes]] = {}


def _running_template(
    key: tuple[str, str, int], defaults: TaskDefaults
) -> tuple[TaskDefaults, bytes]:
    model, status, _ = key
    rest = {
        "task_info": _task_info(defaults, can_cancel=True),
        "type": "video",
        "usage": _usage(defaults),
    }
    template = b"".join(
        (
            b'{"created":%d,"id":%s,"model":',
            _literal(json_bytes(model)),
            b',"object":"video.generation.task","progress":%d,"status":',
            _literal(json_bytes(status)),
            b",",
            _literal(json_bytes(rest)[1:]),  # without the opening brace
        )
    )
    # Models and defaults are few (the configured ones); still, never grow unbounded.
    if len(_RUNNING_TEMPLATES) >= 256:
        _RUNNING_TEMPLATES.clear()
    known = _RUNNING_TEMPLATES[key] = (defaults, template)
    return known


def _literal(text: bytes) -> bytes:
    """``text`` inside a %-format template, where it stands for itself."""
    return text.replace(b"%", b"%%")


def _task_info(defaults: TaskDefaults, *, can_cancel: bool) -> dict[str, Any]:
    return {
        "can_cancel": can_cancel,
        "estimated_time": defaults.estimated_time,
        "video_duration": defaults.video_duration,
    }


def _usage(defaults: TaskDefaults) -> dict[str, Any]:
    return {
        "billing_rule": defaults.billing_rule,
        "credits_reserved": defaults.credits_reserved,
        "user_group": defaults.user_group,
    }
