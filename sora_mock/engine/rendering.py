"""How a task looks in the API: the body of create and status answers, and callbacks."""

from __future__ import annotations

from typing import Any

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
