"""The httpx doors: respx routing (``mock``) and the MockTransport (``transport``)."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

import sora_mock
from sora_mock.engine import Engine, VirtualClock
from sora_mock.errors import UsageError
from sora_mock.inprocess import HttpxMock, SoraTransport, Via
from sora_mock.server import BackgroundServer
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY

API = "https://api.evolink.ai"
DEFAULT_EPOCH = VirtualClock().now()  # where a default mock's clock starts
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
# Generous bound for a loaded shared 2-core machine; a lifecycle typically takes ~15 ms.
FAST = 1.0
# The two ways ``mock`` reaches httpx: a respx router, or httpx's own transports patched.
VIA = pytest.mark.parametrize("via", ["respx", "transport"])


def _lifecycle(client: httpx.Client, api: sora_mock.MockAPI, step: float = 10) -> list[str]:
    task_id = client.post(CREATE_PATH, json=VALID_BODY, headers=HEADERS).json()["id"]
    statuses: list[str] = []
    while not statuses or statuses[-1] not in ("completed", "failed"):
        api.advance(step)
        statuses.append(client.get(f"/v1/tasks/{task_id}", headers=HEADERS).json()["status"])
    return statuses


async def _alifecycle(client: httpx.AsyncClient, api: sora_mock.MockAPI) -> list[str]:
    created = await client.post(CREATE_PATH, json=VALID_BODY, headers=HEADERS)
    task_id = created.json()["id"]
    statuses: list[str] = []
    while not statuses or statuses[-1] not in ("completed", "failed"):
        api.advance(10)
        polled = await client.get(f"/v1/tasks/{task_id}", headers=HEADERS)
        statuses.append(polled.json()["status"])
    return statuses


@pytest.fixture
def loopback_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(Engine(clock=VirtualClock(), seed=1)) as server:
        yield server


@VIA
def test_sync_client_full_lifecycle_in_milliseconds(via: Via) -> None:
    with sora_mock.mock(via=via, seed=1) as api, httpx.Client(base_url=API) as client:
        started = time.perf_counter()
        statuses = _lifecycle(client, api)
        elapsed = time.perf_counter() - started
    assert statuses[0] == "processing"
    assert statuses[-1] == "completed"
    assert len(api.calls.polls) == 15
    assert elapsed < FAST, f"a whole lifecycle took {elapsed:.3f}s"


@VIA
def test_async_client_full_lifecycle_in_milliseconds(via: Via) -> None:
    async def run() -> tuple[list[str], float]:
        async with (
            sora_mock.mock(via=via, seed=1) as api,
            httpx.AsyncClient(base_url=API) as client,
        ):
            started = time.perf_counter()
            statuses = await _alifecycle(client, api)
            return statuses, time.perf_counter() - started

    statuses, elapsed = asyncio.run(run())
    assert statuses[-1] == "completed"
    assert elapsed < FAST, f"a whole lifecycle took {elapsed:.3f}s"


@pytest.mark.parametrize("make", [httpx.Client, httpx.AsyncClient])
def test_transport_serves_sync_and_async_clients(make: Any) -> None:
    transport = sora_mock.transport(seed=1)
    assert isinstance(transport, httpx.MockTransport)
    api = transport.api
    assert api is transport
    if make is httpx.Client:
        with httpx.Client(transport=transport, base_url="http://anything.test") as client:
            statuses = _lifecycle(client, api)
    else:

        async def run() -> list[str]:
            async with httpx.AsyncClient(transport=transport, base_url="http://x.test") as c:
                return await _alifecycle(c, api)

        statuses = asyncio.run(run())
    assert statuses[-1] == "completed"
    # Links point back to where the client reached the mock.
    assert api.calls.last.json()["results"][0].startswith("http://")


def test_the_transport_is_the_documented_handle() -> None:
    transport = sora_mock.transport(seed=1, scenario="fail-content_policy_violation")
    assert isinstance(transport, sora_mock.MockAPI)
    with httpx.Client(transport=transport, base_url=API, headers=HEADERS) as client:
        task_id = client.post(CREATE_PATH, json=VALID_BODY).json()["id"]
        transport.advance(5)
        transport.run_until_idle()
        assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "failed"
    assert [task.status for task in transport.tasks] == ["failed"]
    assert len(transport.calls.polls) == 1
    transport.assert_all_requests_valid()
    transport.assert_polls(1)
    transport.assert_scenario_reached("fail-content_policy_violation")
    with pytest.raises(AssertionError):
        transport.assert_polls(2)
    transport.reset()
    assert (transport.tasks, transport.scenario, len(transport.calls)) == ([], None, 0)


def test_a_handle_makes_its_own_transport() -> None:
    api = sora_mock.MockAPI(seed=1)
    with httpx.Client(transport=api.transport(), base_url=API) as client:
        assert client.post(CREATE_PATH, json=VALID_BODY, headers=HEADERS).status_code == 200
    assert len(api.calls) == 1


def test_one_transport_class_answers_for_both_doors() -> None:
    # ``sora_mock.transport()`` answers and is the handle; a handle's ``transport()`` answers
    # from that same mock; neither is a second copy of the conversion.
    transport = sora_mock.transport(seed=1)
    assert isinstance(transport, SoraTransport)
    assert transport.api is transport
    assert transport.transport() is transport
    with httpx.Client(transport=transport, base_url=API, headers=HEADERS) as client:
        task_id = client.post(CREATE_PATH, json=VALID_BODY).json()["id"]
        transport.run_until_idle()
        assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "completed"
    transport.assert_all_requests_valid()
    transport.assert_polls(1)
    api = sora_mock.MockAPI(seed=1)
    wrapped = api.transport()
    assert type(wrapped) is SoraTransport
    assert wrapped.api is api
    with httpx.Client(transport=wrapped, base_url=API, headers=HEADERS) as client:
        task_id = client.post(CREATE_PATH, json=VALID_BODY).json()["id"]
        api.run_until_idle()
        assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "completed"
    assert [task.id for task in api.tasks] == [task_id]
    api.assert_polls(1)
    api.assert_all_requests_valid()


@VIA
def test_other_hosts_pass_through(loopback_server: BackgroundServer, via: Via) -> None:
    with sora_mock.mock(via=via, seed=1) as api:
        live = httpx.get(f"{loopback_server.base_url}/__mock/health")
        mocked = httpx.get(f"{API}/__mock/health")
    assert live.status_code == mocked.status_code == 200
    assert [c.path for c in api.calls] == ["/__mock/health"]  # only the mocked one


@VIA
@pytest.mark.parametrize("ours_first", [True, False])
def test_a_tests_own_respx_routes_keep_working(ours_first: bool, via: Via) -> None:
    mine = sora_mock.mock(via=via, seed=1)
    theirs = respx.mock(assert_all_called=False)
    first, second = (mine, theirs) if ours_first else (theirs, mine)
    with first, second:
        theirs.get("https://storage.test/upload").respond(204)
        assert httpx.get("https://storage.test/upload").status_code == 204
        assert httpx.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS).is_success
    assert len(mine.calls) == 1


@VIA
def test_other_hosts_are_refused_on_request(loopback_server: BackgroundServer, via: Via) -> None:
    with (
        sora_mock.mock(via=via, assert_all_mocked=True),
        pytest.raises(respx.models.AllMockedAssertionError, match="not mocked"),
    ):
        httpx.get(f"{loopback_server.base_url}/__mock/health")


@VIA
def test_a_base_url_with_a_path_prefix(via: Via) -> None:
    base = "http://proxy.internal:8080/sora"
    with sora_mock.mock(via=via, base_url=base, seed=1, assert_all_mocked=True) as api:
        response = httpx.post(f"{base}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS)
        api.run_until_idle()
        polled = httpx.get(f"{base}/v1/tasks/{response.json()['id']}", headers=HEADERS)
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get(f"{API}{CREATE_PATH}", headers=HEADERS)
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get(f"http://proxy.internal:8080/other{CREATE_PATH}", headers=HEADERS)
        with pytest.raises(respx.models.AllMockedAssertionError):  # paths are case-sensitive
            httpx.get(f"http://proxy.internal:8080/SORA{CREATE_PATH}", headers=HEADERS)
    assert response.status_code == 200
    assert polled.json()["results"][0].startswith(f"{base}/__mock/files/")
    assert api.calls[0].path == CREATE_PATH


@VIA
def test_the_mock_as_a_decorator_sync_and_async(via: Via) -> None:
    api = sora_mock.mock(via=via, seed=1)

    @api
    def sync_client() -> int:
        return httpx.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS).status_code

    @api
    async def async_client() -> int:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS)
            return response.status_code

    assert sync_client.__name__ == "sync_client"
    assert sync_client() == 200
    assert len(api.calls) == 1
    assert asyncio.run(async_client()) == 200
    assert len(api.calls) == 1  # re-entering started from a reset state
    assert api.tasks[0].id == api.calls[0].task_id


def test_decorated_pytest_test_keeps_its_fixtures(tmp_path: Any) -> None:
    @sora_mock.mock()
    def test_like(tmp_path: Any) -> Any:
        return tmp_path

    import inspect

    assert list(inspect.signature(test_like).parameters) == ["tmp_path"]
    assert test_like(tmp_path) == tmp_path


def test_activation_is_checked() -> None:
    api = sora_mock.mock()
    with pytest.raises(UsageError, match="not active"):
        _ = api.router
    with api:
        assert isinstance(api.router, respx.MockRouter)
        with pytest.raises(UsageError, match="already active"):
            api.start()
    # Stopped: httpx no longer reaches the mock.
    assert isinstance(api, HttpxMock)


@VIA
def test_patch_sleep_option_makes_a_sleeping_client_instant(via: Via) -> None:
    with (
        sora_mock.mock(via=via, seed=1, patch_sleep=True) as api,
        httpx.Client(base_url=API) as client,
    ):
        started = time.perf_counter()
        task_id = client.post(CREATE_PATH, json=VALID_BODY, headers=HEADERS).json()["id"]
        while True:
            time.sleep(15)  # the vendor's advice: poll every 10-15 s
            body = client.get(f"/v1/tasks/{task_id}", headers=HEADERS).json()
            if body["status"] in ("completed", "failed"):
                break
    assert time.perf_counter() - started < FAST
    assert body["status"] == "completed"
    assert api.now == DEFAULT_EPOCH + 150
    api.assert_poll_interval(15)
    assert time.sleep.__module__ == "time"  # restored


def _first_poll(api: sora_mock.MockAPI, scenario: str, timeout: float = 5) -> httpx.Response:
    with httpx.Client(base_url=API, headers=HEADERS, timeout=timeout) as client:
        api.scenario = scenario
        task_id = client.post(CREATE_PATH, json=VALID_BODY).json()["id"]
        return client.get(f"/v1/tasks/{task_id}")


@VIA
@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("drop-connection", httpx.RemoteProtocolError),
        ("truncated-body", httpx.RemoteProtocolError),
        ("timeout", httpx.ReadTimeout),
    ],
)
def test_door_faults_reach_the_client_at_once(
    scenario: str, error: type[Exception], via: Via
) -> None:
    started = time.perf_counter()
    with sora_mock.mock(via=via, seed=1) as api, pytest.raises(error):
        _first_poll(api, scenario)
    # Generous: the point is that the timeout fault does not wait its 300 s.
    assert time.perf_counter() - started < 10
    assert api.calls.last.response.fault in ("drop_connection", "truncated_body", None)


@VIA
def test_latency_shorter_than_the_timeout_is_not_waited_for(via: Via) -> None:
    with sora_mock.mock(via=via, seed=1) as api:
        started = time.perf_counter()
        polled = _first_poll(api, "latency", timeout=1.0)
        elapsed = time.perf_counter() - started
        assert polled.status_code == 200
        delays = [call.response.delay for call in api.calls]
        assert min(delays) >= 0.2
        assert elapsed < sum(delays)  # a server would have waited this long
        with pytest.raises(httpx.ReadTimeout, match=r"past the read timeout of 0\.1 s"):
            _first_poll(api, "latency", timeout=0.1)
    assert api.now == api.calls[0].time  # mock time did not move either


@VIA
def test_body_faults_are_just_answers(via: Via) -> None:
    with sora_mock.mock(via=via, seed=1) as api:
        malformed = _first_poll(api, "malformed-body")
        html = _first_poll(api, "wrong-content-type")
    assert malformed.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        malformed.json()
    assert html.headers["content-type"].startswith("text/html")


def test_callbacks_are_delivered_in_process_to_a_respx_receiver() -> None:
    hook = "https://hooks.example.com/sora"
    with sora_mock.mock(seed=1) as api, respx.mock(assert_all_called=False) as receiver:
        route = receiver.post(hook).mock(side_effect=[httpx.Response(500), httpx.Response(204)])
        body = {**VALID_BODY, "callback_url": hook}
        task_id = httpx.post(f"{API}{CREATE_PATH}", json=body, headers=HEADERS).json()["id"]
        assert api.deliver_callbacks() == 0  # nothing due yet
        api.run_until_idle()
        assert api.deliver_callbacks() == 1  # answered 500: a retry is planned
        assert api.deliver_callbacks() == 0
        api.advance(1)
        assert api.deliver_callbacks() == 1
    assert route.call_count == 2
    delivered = json.loads(route.calls.last.request.content)
    assert (delivered["id"], delivered["status"]) == (task_id, "completed")
    attempts = [e for e in api.journal if e.operation == "callback"]
    assert [(e.status, e.notes["attempt"]) for e in attempts] == [(500, 1), (204, 2)]


@VIA
def test_latency_on_virtual_time_moves_the_clock_instead(via: Via) -> None:
    with sora_mock.mock(via=via, seed=1, patch_sleep=True) as api:
        started = time.perf_counter()
        polled = _first_poll(api, "latency", timeout=1.0)
        waited = sum(call.response.delay for call in api.calls)
        assert polled.status_code == 200
        assert api.now == pytest.approx(DEFAULT_EPOCH + waited)  # as a server's wait would
        before = api.now
        with pytest.raises(httpx.ReadTimeout, match="past the read timeout of 5 s"):
            _first_poll(api, "timeout", timeout=5)
        assert api.now == before + api.calls[-2].response.delay + 5  # create, then 5 s timeout
    assert time.perf_counter() - started < FAST


@VIA
def test_patch_clocks_lets_a_client_keep_its_own_deadline(via: Via) -> None:
    real_monotonic = time.monotonic
    with (
        sora_mock.mock(via=via, seed=1, scenario="never-finishes", patch_clocks=True) as api,
        httpx.Client(base_url=API, headers=HEADERS) as client,
    ):
        started = time.perf_counter()
        assert time.time() == api.now
        task_id = client.post(CREATE_PATH, json=VALID_BODY).json()["id"]
        deadline = time.monotonic() + 600  # the client's own give-up bound
        polls = 0
        while polls < 1000:  # bounded, so real clocks fail rather than hang
            time.sleep(15)
            polls += 1
            assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "processing"
            if time.monotonic() >= deadline:
                break
    assert time.perf_counter() - started < FAST
    assert polls == 40
    assert api.now == DEFAULT_EPOCH + 600
    assert time.monotonic is real_monotonic
    assert time.sleep.__module__ == "time"


def test_options_are_checked() -> None:
    api = sora_mock.mock()
    with pytest.raises(UsageError, match="not active"):
        _ = api.router
    with api, pytest.raises(UsageError, match="already active"):
        api.start()
    with pytest.raises(UsageError, match="via must be"):
        sora_mock.mock(via="pycurl")  # type: ignore[arg-type]


@VIA
@pytest.mark.parametrize("exclusive", [False, True])
def test_the_router_takes_routes_for_other_hosts(via: Via, exclusive: bool) -> None:
    with sora_mock.mock(via=via, seed=1, assert_all_mocked=exclusive) as api:
        api.router.get("https://storage.test/upload").respond(204)
        assert httpx.get("https://storage.test/upload").status_code == 204
        assert httpx.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS).is_success
        if exclusive:
            with pytest.raises(respx.models.AllMockedAssertionError, match="not mocked"):
                httpx.get("https://elsewhere.test/")
    assert len(api.calls) == 1


def test_clients_built_in_a_transport_mock_share_their_ssl_context() -> None:
    def context(client: httpx.Client) -> Any:
        return client._transport._pool._ssl_context  # type: ignore[attr-defined]

    with sora_mock.mock(via="transport"):
        first, second, unverified = httpx.Client(), httpx.Client(), httpx.Client(verify=False)
    outside = httpx.Client()
    assert context(first) is context(second)
    assert context(unverified) is not context(first)  # one per setting
    assert context(outside) is not context(first)
    for client in (first, second, unverified, outside):
        client.close()


def test_the_default_door_answers_before_a_lenient_respx_mock_started_first() -> None:
    # A test's own respx mock that auto-answers what it does not know, started before the
    # mock, must not swallow the API's requests (respx tries routers in start order).
    with (
        respx.mock(assert_all_called=False, assert_all_mocked=False) as theirs,
        sora_mock.mock(seed=1) as api,
    ):
        theirs.get("https://storage.test/upload").respond(204)
        created = httpx.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS)
        assert httpx.get("https://storage.test/upload").status_code == 204
    assert created.json()["id"] == api.calls[0].task_id
    assert api.via == "transport"


def _python_calls(action: Callable[[], object]) -> int:
    """The Python and C function calls one ``action`` makes (after a warm-up call)."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    action()
    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def _create(client: httpx.Client) -> Callable[[], object]:
    return lambda: client.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS)


def test_each_door_costs_little_more_than_a_static_respx_route_and_the_engine() -> None:
    # Calls, not seconds: a deterministic measure of the work per request (bench/inprocess.py
    # times it). A static respx route answering a fixed body is the reference.
    with httpx.Client() as client:
        with respx.mock(assert_all_called=False) as static:
            static.post(f"{API}{CREATE_PATH}").respond(200, json={"id": "task"})
            reference = _python_calls(_create(client))
        cost: dict[str, int] = {}
        for via in ("transport", "respx"):
            with sora_mock.mock(via=via, seed=1) as api:
                door = _python_calls(_create(client))
                engine = _python_calls(functools.partial(api.handle, api.calls.last.request))
                cost[via] = door - engine
    # The default door skips respx's conversions to httpcore and back: below the reference.
    assert cost["transport"] < reference, cost
    # Through respx: one route built once, no side effect (respx inspects a side effect's
    # signature on every call) and no pattern objects per request.
    assert cost["respx"] < reference + 150, (cost, reference)
