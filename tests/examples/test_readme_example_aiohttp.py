"""A small aiohttp client for sora-character, tested with sora-mock's pytest plugin."""

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from sora_mock import HttpxMock

API = "https://api.evolink.ai"


class TaskFailedError(Exception):
    """The task ended as failed; ``code`` is the vendor's failure code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


async def create_character(
    session: aiohttp.ClientSession, video_url: str, poll_every: float = 10
) -> dict[str, Any]:
    """Turn a video into a character: create the task, poll it, return its result."""
    body = {"model": "sora-character", "video_url": video_url}
    async with session.post("/v1/videos/generations", json=body) as created:
        created.raise_for_status()
        task_id = (await created.json())["id"]
    while True:
        await asyncio.sleep(poll_every)
        async with session.get(f"/v1/tasks/{task_id}") as polled:
            polled.raise_for_status()
            task = await polled.json()
        if task["status"] == "completed":
            result: dict[str, Any] = task["result_data"]
            return result
        if task["status"] == "failed":
            raise TaskFailedError(task["error"]["code"], task["error"]["message"])


def run_client(video_url: str) -> dict[str, Any]:
    """The client in an event loop of its own (or use pytest-asyncio's async tests)."""

    async def run() -> dict[str, Any]:
        headers = {"Authorization": "Bearer sk-my-test-key"}
        async with aiohttp.ClientSession(API, headers=headers) as session:
            return await create_character(session, video_url)

    return asyncio.run(run())


@pytest.fixture(autouse=True)
def virtual_time(sora_api: HttpxMock) -> Iterator[None]:
    # sora_api answers aiohttp calls to API in-process too (through aioresponses);
    # virtual_sleep() turns the client's asyncio.sleep into a jump of the mock's clock.
    with sora_api.virtual_sleep():
        yield


def test_a_character_is_created(sora_api: HttpxMock) -> None:
    character = run_client("https://example.com/me.mp4")
    assert character["character_name"].startswith("chr_")
    sora_api.assert_all_requests_valid()
    sora_api.assert_poll_interval(10)  # mock seconds between polls of one task
    sora_api.assert_polls(15)  # 150 s of processing, polled every 10 s


# Built-in scenarios (see docs/scenarios.md) give every documented outcome on demand.
@pytest.mark.sora(scenario="fail-content_policy_violation")
def test_a_failed_task_raises_its_code(sora_api: HttpxMock) -> None:
    with pytest.raises(TaskFailedError) as failed:
        run_client("https://example.com/me.mp4")
    assert failed.value.code == "content_policy_violation"
    sora_api.assert_scenario_reached("fail-content_policy_violation")


@pytest.mark.sora(scenario="create-insufficient_quota")
def test_no_credits_is_an_http_error() -> None:
    with pytest.raises(aiohttp.ClientResponseError) as refused:
        run_client("https://example.com/me.mp4")
    assert refused.value.status == 402
