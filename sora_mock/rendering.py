"""How a task looks in the API: the body of create and status answers, and callbacks."""

from __future__ import annotations

from typing import Any

from sora_mock.lifecycle import TERMINAL, Observation
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
        "created": int(task.created_at),
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
