"""The aiohttp door: ``sora_mock.mock()`` answers aiohttp through ``aioresponses``."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

import sora_mock
from sora_mock.errors import UsageError
from sora_mock.inprocess._libraries import available_routes
from sora_mock.inprocess.aiohttp_door import MockedResponse
from sora_mock.server import BackgroundServer
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY
from tests.inprocess.lifecycle import assert_whole_lifecycle

API = "https://api.evolink.ai"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


async def _first_poll(
    api: sora_mock.MockAPI, scenario: str, timeout: aiohttp.ClientTimeout | None = None
) -> Any:
    """The first poll's JSON body under ``scenario`` (what the client's ``.json()`` gives)."""
    api.scenario = scenario
    session_timeout = timeout or aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(API, headers=HEADERS, timeout=session_timeout) as session:
        async with session.post(CREATE_PATH, json=VALID_BODY) as created:
            task_id = (await created.json())["id"]
        async with session.get(f"/v1/tasks/{task_id}") as polled:
            return await polled.json()


def test_a_whole_lifecycle_on_virtual_time() -> None:
    async def run(api: sora_mock.MockAPI) -> list[str]:
        async with aiohttp.ClientSession(API, headers=HEADERS) as session:
            async with session.post(CREATE_PATH, json=VALID_BODY, params={"a": "1"}) as created:
                assert created.status == 200
                assert created.headers["Content-Type"] == "application/json"
                task_id = (await created.json())["id"]
            statuses: list[str] = []
            while not statuses or statuses[-1] not in ("completed", "failed"):
                await asyncio.sleep(10)
                async with session.get(f"/v1/tasks/{task_id}") as polled:
                    statuses.append((await polled.json())["status"])
            return statuses

    with sora_mock.mock(seed=1, patch_sleep=True) as api:
        statuses = asyncio.run(run(api))
    assert_whole_lifecycle(api, statuses)


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("truncated-body", aiohttp.ClientPayloadError),
        ("malformed-body", ValueError),  # json.JSONDecodeError, as from a real server
        ("timeout", TimeoutError),  # the session's total timeout
    ],
)
def test_faults_are_what_aiohttp_raises(scenario: str, error: type[Exception]) -> None:
    started = time.perf_counter()
    with sora_mock.mock(seed=1) as api, pytest.raises(error):
        asyncio.run(_first_poll(api, scenario))
    assert time.perf_counter() - started < 10  # the timeout fault does not wait its 300 s
    assert api.calls.last.scenario == scenario


def test_a_dropped_get_is_sent_once_more_as_aiohttp_does() -> None:
    with sora_mock.mock(seed=1) as api:
        body = asyncio.run(_first_poll(api, "drop-connection"))
    assert body["status"] in ("pending", "processing")
    assert [call.response.fault for call in api.calls.polls] == ["drop_connection", None]


@pytest.mark.parametrize("step", ["create", "poll"])
def test_a_connection_dropped_again_is_a_server_disconnect(step: str) -> None:
    dropping = {"name": "drop-always", "description": "d", step: {"fault": "drop_connection"}}
    with (
        sora_mock.mock(seed=1, config={"scenarios": [dropping]}) as api,
        pytest.raises(aiohttp.ServerDisconnectedError) as dropped,
    ):
        asyncio.run(_first_poll(api, "drop-always"))
    assert type(dropped.value) is aiohttp.ServerDisconnectedError
    assert len(api.calls.polls if step == "poll" else api.calls.creates) == (
        2 if step == "poll" else 1  # a POST is not sent again
    )


def test_a_read_timeout_is_a_socket_timeout() -> None:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=2)
    with sora_mock.mock(seed=1, patch_sleep=True) as api:
        with pytest.raises(aiohttp.ServerTimeoutError, match="Timeout on reading"):
            asyncio.run(_first_poll(api, "timeout", timeout))
        assert api.now - api.calls[0].time == pytest.approx(2)  # the read timeout, not 300 s


def test_latency_moves_the_virtual_clock() -> None:
    with sora_mock.mock(seed=1, patch_sleep=True) as api:
        body = asyncio.run(_first_poll(api, "latency"))
    assert body["status"] in ("pending", "processing")
    waited = sum(call.response.delay for call in api.calls)
    assert waited > 0
    assert api.now - api.calls[0].time == pytest.approx(waited)


@pytest.mark.parametrize("ours_first", [True, False])
def test_a_tests_own_aioresponses_keeps_working(ours_first: bool) -> None:
    async def run() -> tuple[int, int]:
        async with aiohttp.ClientSession() as session:
            async with session.get("https://storage.test/upload") as upload:
                pass
            async with session.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS) as r:
                return upload.status, r.status

    mine = sora_mock.mock(seed=1)
    theirs = aioresponses(passthrough=[API])  # theirs, when on top, lets the API's calls by
    first, second = (mine, theirs) if ours_first else (theirs, mine)
    with first, second:
        theirs.get("https://storage.test/upload", status=204, response_class=MockedResponse)
        assert asyncio.run(run()) == (204, 200)
    assert len(mine.calls) == 1


def test_the_mocks_own_aioresponses_takes_other_hosts() -> None:
    async def upload() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get("https://storage.test/upload") as response,
        ):
            return response.status

    with sora_mock.mock(seed=1) as api:
        api.aioresponses.get("https://storage.test/upload", status=204)
        assert asyncio.run(upload()) == 204
    assert len(api.calls) == 0


def test_other_hosts_pass_through_or_are_refused(server: BackgroundServer) -> None:
    async def health() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.base_url}/__mock/health") as response,
        ):
            return response.status

    with sora_mock.mock(seed=1) as api:
        assert asyncio.run(health()) == 200
    assert len(api.calls) == 0
    with (
        sora_mock.mock(assert_all_mocked=True),
        pytest.raises(aiohttp.ClientConnectionError, match="Connection refused"),
    ):
        asyncio.run(health())


def test_a_base_url_with_a_path_prefix() -> None:
    base = "http://proxy.internal:8080/sora"

    async def post(url: str) -> int:
        async with (
            aiohttp.ClientSession(headers=HEADERS) as session,
            session.post(url, json=VALID_BODY) as response,
        ):
            return response.status

    with sora_mock.mock(base_url=base, seed=1, assert_all_mocked=True) as api:
        assert asyncio.run(post(f"{base}{CREATE_PATH}")) == 200
        for other in ("other", "SORA"):  # paths are case-sensitive
            with pytest.raises(aiohttp.ClientConnectionError, match="Connection refused"):
                asyncio.run(post(f"http://proxy.internal:8080/{other}{CREATE_PATH}"))
    assert len(api.calls) == 1
    assert api.calls[0].path == CREATE_PATH


def test_without_aiohttp_installed_only_the_others_are_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "sora_mock.inprocess.aiohttp_door", raising=False)
    monkeypatch.setitem(sys.modules, "aioresponses", None)  # import aioresponses fails
    assert set(available_routes()) == {"requests"}
    with (
        sora_mock.mock(seed=1) as api,
        pytest.raises(UsageError, match=r"pip install 'sora-mock\[aiohttp\]'"),
    ):
        api.aioresponses  # noqa: B018


def test_an_error_status_raises_for_status_as_from_a_server() -> None:
    async def create() -> None:
        async with (
            aiohttp.ClientSession(API, headers=HEADERS, raise_for_status=True) as session,
            session.post(CREATE_PATH, json=VALID_BODY),
        ):
            pass

    with (
        sora_mock.mock(seed=1, scenario="create-insufficient_quota"),
        pytest.raises(aiohttp.ClientResponseError, match="402, message='Payment Required'"),
    ):
        asyncio.run(create())
