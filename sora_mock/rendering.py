"""How a task looks in the API: the body of create and status answers, and callbacks."""

from __future__ import annotations

from typing import Any

import orjson

from sora_mock.config import TaskDefaults
from sora_mock.lifecycle import TERMINAL, Observation
from sora_mock.messages import json_bytes
from sora_mock.store import Task, TaskRecord

MOCK_PREFIX = "/__mock/"


def picture_url(task: Task, expires: float) -> str:
    """The profile picture link of ``task``, served by the mock until ``expires``."""
    return f"{task.base_url}{MOCK_PREFIX}files/{task.id}/profile.png?expires={int(expires)}"


def render_task(record: TaskRecord, seen: Observation, now: float) -> dict[str, Any]:
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
        "task_info": _task_info(defaults, can_cancel=seen.status not in TERMINAL),
        "type": "video",
        "usage": _usage(defaults),
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


def task_json(record: TaskRecord, seen: Observation, now: float) -> bytes:
    """``render_task`` written as JSON: the same bytes, built without the dict while the task
    runs (a running task's body differs from another's only in a few values)."""
    if seen.status in TERMINAL:
        return json_bytes(render_task(record, seen, now))
    task = record.task
    return _RUNNING_HEAD % (
        task.created,
        orjson.dumps(task.id),
        orjson.dumps(task.model),
        seen.progress,
        orjson.dumps(seen.status),
        _running_tail(task.defaults),
    )


_RUNNING_HEAD = (
    b'{"created":%d,"id":%s,"model":%s,"object":"video.generation.task","progress":%d,'
    b'"status":%s,%s'
)
#: The end of a running task's body, after its status, by ``id`` of its defaults.
_RUNNING_TAILS: dict[int, tuple[TaskDefaults, bytes]] = {}


def _running_tail(defaults: TaskDefaults) -> bytes:
    known = _RUNNING_TAILS.get(id(defaults))
    if known is not None and known[0] is defaults:
        return known[1]
    rest = {
        "task_info": _task_info(defaults, can_cancel=True),
        "type": "video",
        "usage": _usage(defaults),
    }
    tail = json_bytes(rest)[1:]  # without the opening brace
    if len(_RUNNING_TAILS) >= 256:  # defaults are few (one per scenario); never grow unbounded
        _RUNNING_TAILS.clear()
    _RUNNING_TAILS[id(defaults)] = (defaults, tail)
    return tail


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
