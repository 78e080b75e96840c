"""The plugin's guard: a call to the API's host that no mock answers fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sora_mock.engine import Engine, VirtualClock
from sora_mock.server import BackgroundServer

CALLS = """
import asyncio

import aiohttp
import httpx
import pytest
import requests

URL = "{url}/__mock/health"


async def httpx_get():
    async with httpx.AsyncClient() as client:
        return (await client.get(URL)).status_code


async def aiohttp_get():
    async with aiohttp.ClientSession() as session, session.get(URL) as response:
        return response.status


CALLERS = {{
    "httpx": lambda: httpx.get(URL).status_code,
    "async-httpx": lambda: asyncio.run(httpx_get()),
    "requests": lambda: requests.get(URL).status_code,
    "aiohttp": lambda: asyncio.run(aiohttp_get()),
}}


@pytest.mark.parametrize("library", CALLERS)
def test_call(library):
    assert CALLERS[library]() == 200


def test_a_swallowed_refusal_still_fails():
    try:
        requests.get(URL)
    except Exception:
        pass


@pytest.mark.parametrize("library", CALLERS)
def test_with_the_mock(sora_api, library):
    assert CALLERS[library]() == 200
    assert len(sora_api.calls) == 1
"""


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    """A real server standing in for the API's host: it must see no request."""
    with BackgroundServer(Engine(clock=VirtualClock())) as running:
        yield running


def _run(pytester: pytest.Pytester, server: BackgroundServer, *args: str, guard: str = "") -> Any:
    pytester.makeini(f"[pytest]\nsora_api_url = {server.base_url}\n{guard}")
    pytester.makepyfile(CALLS.format(url=server.base_url))
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "--tb=short", *args)


def test_unanswered_calls_fail_and_never_leave(
    pytester: pytest.Pytester, server: BackgroundServer
) -> None:
    result = _run(pytester, server)
    result.assert_outcomes(passed=4, failed=5)
    text = result.stdout.str()
    assert text.count("UnmockedCallError: GET http://127.0.0.1") >= 5
    assert "use the sora_api fixture" in text
    assert "sora_server" in text
    assert "--sora-base-url" in text
    assert len(server.engine.journal) == 0  # nothing reached the host


def test_the_guard_can_be_switched_off(pytester: pytest.Pytester, server: BackgroundServer) -> None:
    result = _run(pytester, server, "-k", "test_call", guard="sora_guard = false")
    result.assert_outcomes(passed=4)
    assert len(server.engine.journal) == 4


def test_a_live_run_against_the_host_is_not_guarded(
    pytester: pytest.Pytester, server: BackgroundServer
) -> None:
    result = _run(pytester, server, "-k", "test_call", f"--sora-base-url={server.base_url}")
    result.assert_outcomes(passed=4)
