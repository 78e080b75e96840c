"""requests and aiohttp see the same answers and faults in-process as from a real server.

The same lifecycle runs once through the in-process door for the server's base URL and
once over HTTP against ``sora_server``; answers are compared as (status, content type,
body), and a fault as the name of the exception the library raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import requests

from sora_mock.inprocess.aiohttp_door import aiohttp_route
from sora_mock.inprocess.handle import MockAPI
from sora_mock.inprocess.requests_door import requests_route
from tests.helpers import CREATE_PATH, VALID_BODY, auth

TIMEOUT = 1.5  # past the latency scenario's 0.5 s, short of the timeout scenario's 300 s
#: Scenarios whose answers wait out a real delay over HTTP.
WAITING = ("latency", "timeout")
SCENARIOS = [
    pytest.param(name, marks=pytest.mark.slow) if name in WAITING else name
    for name in ("success", "drop-connection", "truncated-body", "malformed-body", *WAITING)
]
Seen = list[tuple[Any, ...]]


def _recorded(
    seen: Seen, fetch: Callable[..., Any], errors: tuple[type[Exception], ...]
) -> Callable[..., Any]:
    """A send for :func:`_lifecycle`: ``fetch`` (which records an answer's status and content
    type in ``seen`` and returns its parsed body), then the body, or the name of the
    exception among ``errors`` it raised, recorded too; the body or None back."""

    def send(method: str, path: str, **kwargs: Any) -> Any:
        try:
            body = fetch(method, path, **kwargs)
        except errors as error:
            seen.append(("error", type(error).__name__))
            return None
        seen.append(("body", body))
        return body

    return send


def _requests_lifecycle(base_url: str, api: MockAPI) -> Seen:
    seen: Seen = []

    def fetch(method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method, f"{base_url}{path}", headers=auth(), timeout=TIMEOUT, **kwargs
        )
        seen.append((response.status_code, response.headers.get("content-type")))
        return response.json()

    _lifecycle(_recorded(seen, fetch, (requests.RequestException, ValueError)), api)
    return seen


def _aiohttp_lifecycle(base_url: str, api: MockAPI) -> Seen:
    seen: Seen = []

    async def request(method: str, path: str, **kwargs: Any) -> Any:
        # A connection per request, as a first request meets the fault (aiohttp retries a
        # GET once when a kept-alive connection turns out closed).
        timeout = aiohttp.ClientTimeout(total=None, sock_read=TIMEOUT)
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.request(method, f"{base_url}{path}", headers=auth(), **kwargs) as response,
        ):
            seen.append((response.status, response.headers.get("content-type")))
            return await response.json(content_type=None)

    def fetch(method: str, path: str, **kwargs: Any) -> Any:
        return asyncio.run(request(method, path, **kwargs))

    errors = (aiohttp.ClientError, TimeoutError, ValueError)
    _lifecycle(_recorded(seen, fetch, errors), api)
    return seen


def _lifecycle(send: Callable[..., Any], api: MockAPI) -> None:
    created = send("POST", CREATE_PATH, json=VALID_BODY)
    if created is not None and "id" in created:
        for step in (0, 3, 60):
            api.advance(step)
            send("GET", f"/v1/tasks/{created['id']}")
        api.run_until_idle()
        send("GET", f"/v1/tasks/{created['id']}")


@pytest.mark.parametrize("library", ["requests", "aiohttp"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_library_sees_the_same_through_both_doors(
    sora_api: MockAPI, sora_server: MockAPI, scenario: str, library: str
) -> None:
    sora_api.scenario = sora_server.scenario = scenario
    route, lifecycle = (
        (requests_route, _requests_lifecycle)
        if library == "requests"
        else (aiohttp_route, _aiohttp_lifecycle)
    )
    with route(sora_server.base_url, sora_api.handle, exclusive=True):
        in_process = lifecycle(sora_server.base_url, sora_api)
    over_http = lifecycle(sora_server.base_url, sora_server)
    assert in_process == over_http
    assert len(sora_api.calls) == len(sora_server.calls) >= 2
    sora_api.assert_scenario_reached(scenario)
