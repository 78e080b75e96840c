"""The harness runs clients written with requests and aiohttp (sync and async) in-process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
import requests

from sora_mock.conformance import Harness, conformance_tests
from sora_mock.conformance.runner import Target

SITUATIONS = ["success", "fail-content_policy_violation", "create-insufficient_quota"]


class TaskFailedError(Exception):
    """The task ended as failed."""


def requests_client(target: Target) -> dict[str, Any]:
    """Create, poll every 10 s, return the result; raise on a failure or an HTTP error."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {target.api_key}"
        created = http.post(f"{target.base_url}/v1/videos/generations", json=target.body)
        created.raise_for_status()
        while True:
            time.sleep(10)
            polled = http.get(f"{target.base_url}/v1/tasks/{created.json()['id']}")
            polled.raise_for_status()
            task = polled.json()
            if task["status"] == "completed":
                return {"status": "completed", **task["result_data"]}
            if task["status"] == "failed":
                raise TaskFailedError(task["error"]["code"])


async def aiohttp_client(target: Target) -> dict[str, Any]:
    """The same client with aiohttp, as a coroutine function."""
    headers = {"Authorization": f"Bearer {target.api_key}"}
    async with aiohttp.ClientSession(target.base_url, headers=headers) as http:
        async with http.post("/v1/videos/generations", json=target.body) as created:
            created.raise_for_status()
            task_id = (await created.json())["id"]
        while True:
            await asyncio.sleep(10)
            async with http.get(f"/v1/tasks/{task_id}") as polled:
                polled.raise_for_status()
                task = await polled.json()
            if task["status"] == "completed":
                return {"status": "completed", **task["result_data"]}
            if task["status"] == "failed":
                raise TaskFailedError(task["error"]["code"])


@pytest.mark.parametrize("client", [requests_client, aiohttp_client])
def test_the_harness_runs_a_requests_and_an_aiohttp_client(client: Any) -> None:
    report = Harness().check(client, SITUATIONS)
    assert report.passed, report.to_text()
    runs = {result.situation.name: result for result in report.results}
    assert set(runs) == set(SITUATIONS)
    success = runs["success"].run
    assert success.outcome.status == "completed"
    assert len(success.exchanges) >= 3  # created, then polled in-process


test_a_requests_client = conformance_tests(requests_client, SITUATIONS)
test_an_aiohttp_client = conformance_tests(aiohttp_client, SITUATIONS)
