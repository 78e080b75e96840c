"""A small requests client for sora-character, tested with sora-mock's pytest plugin."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sora_mock import HttpxMock

API = "https://api.evolink.ai"


class TaskFailedError(Exception):
    """The task ended as failed; ``code`` is the vendor's failure code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def create_character(
    session: requests.Session, video_url: str, poll_every: float = 10
) -> dict[str, Any]:
    """Turn a video into a character: create the task, poll it, return its result."""
    created = session.post(
        f"{API}/v1/videos/generations", json={"model": "sora-character", "video_url": video_url}
    )
    created.raise_for_status()
    task_id = created.json()["id"]
    while True:
        time.sleep(poll_every)
        task = session.get(f"{API}/v1/tasks/{task_id}")
        task.raise_for_status()
        body = task.json()
        if body["status"] == "completed":
            result: dict[str, Any] = body["result_data"]
            return result
        if body["status"] == "failed":
            raise TaskFailedError(body["error"]["code"], body["error"]["message"])


@pytest.fixture
def session(sora_api: HttpxMock) -> Iterator[requests.Session]:
    # sora_api answers requests calls to API in-process too (through responses);
    # virtual_sleep() turns the client's time.sleep into a jump of the mock's clock.
    with requests.Session() as session, sora_api.virtual_sleep():
        session.headers["Authorization"] = "Bearer sk-my-test-key"
        yield session


def test_a_character_is_created(session: requests.Session, sora_api: HttpxMock) -> None:
    character = create_character(session, "https://example.com/me.mp4")
    assert character["character_name"].startswith("chr_")
    sora_api.assert_all_requests_valid()
    sora_api.assert_poll_interval(10)  # mock seconds between polls of one task
    sora_api.assert_polls(15)  # 150 s of processing, polled every 10 s


# Built-in scenarios (see docs/scenarios.md) give every documented outcome on demand.
@pytest.mark.sora(scenario="fail-content_policy_violation")
def test_a_failed_task_raises_its_code(session: requests.Session, sora_api: HttpxMock) -> None:
    with pytest.raises(TaskFailedError) as failed:
        create_character(session, "https://example.com/me.mp4")
    assert failed.value.code == "content_policy_violation"
    sora_api.assert_scenario_reached("fail-content_policy_violation")


@pytest.mark.sora(scenario="create-insufficient_quota")
def test_no_credits_is_an_http_error(session: requests.Session) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        create_character(session, "https://example.com/me.mp4")
    assert refused.value.response is not None
    assert refused.value.response.status_code == 402
