"""The requests door: ``sora_mock.mock()`` answers ``requests`` through ``responses``."""

from __future__ import annotations

import sys
import time

import pytest
import requests
import responses

import sora_mock
from sora_mock.errors import UsageError
from sora_mock.inprocess._libraries import available_routes
from sora_mock.server import BackgroundServer
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY
from tests.inprocess.lifecycle import assert_whole_lifecycle

API = "https://api.evolink.ai"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _first_poll(
    api: sora_mock.MockAPI, scenario: str, timeout: float | tuple[float, float] = 5
) -> requests.Response:
    with requests.Session() as session:
        session.headers.update(HEADERS)
        api.scenario = scenario
        task_id = session.post(f"{API}{CREATE_PATH}", json=VALID_BODY).json()["id"]
        return session.get(f"{API}/v1/tasks/{task_id}", timeout=timeout)


def test_a_whole_lifecycle_on_virtual_time() -> None:
    with sora_mock.mock(seed=1, patch_sleep=True) as api, requests.Session() as session:
        session.headers.update(HEADERS)
        created = session.post(f"{API}{CREATE_PATH}", json=VALID_BODY, params={"a": "1"})
        statuses: list[str] = []
        while not statuses or statuses[-1] not in ("completed", "failed"):
            time.sleep(10)
            polled = session.get(f"{API}/v1/tasks/{created.json()['id']}")
            statuses.append(polled.json()["status"])
    assert created.status_code == 200
    assert created.headers["content-type"] == "application/json"
    assert_whole_lifecycle(api, statuses)


@pytest.mark.parametrize(
    ("scenario", "error", "message"),
    [
        ("drop-connection", requests.exceptions.ConnectionError, "Connection aborted"),
        ("truncated-body", requests.exceptions.ChunkedEncodingError, "IncompleteRead"),
        ("timeout", requests.exceptions.ReadTimeout, "Read timed out"),
    ],
)
def test_door_faults_are_what_requests_raises(
    scenario: str, error: type[Exception], message: str
) -> None:
    started = time.perf_counter()
    with sora_mock.mock(seed=1) as api, pytest.raises(error, match=message):
        _first_poll(api, scenario)
    assert time.perf_counter() - started < 10  # the timeout fault does not wait its 300 s
    assert api.calls.last.scenario == scenario


def test_a_malformed_body_fails_json() -> None:
    with sora_mock.mock(seed=1) as api:
        polled = _first_poll(api, "malformed-body")
    assert polled.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        polled.json()


def test_latency_moves_the_virtual_clock_up_to_the_timeout() -> None:
    with sora_mock.mock(seed=1, patch_sleep=True) as api:
        polled = _first_poll(api, "latency", timeout=1.0)
        assert polled.status_code == 200
        waited = sum(call.response.delay for call in api.calls)
        assert api.now - api.calls[0].time == pytest.approx(waited)
        before = api.now
        with pytest.raises(requests.exceptions.ReadTimeout):
            _first_poll(api, "timeout", timeout=(3, 2.5))
        assert api.now - before == pytest.approx(2.5, abs=0.5)  # the read timeout, not 300 s


def test_a_tests_own_responses_mock_started_first_keeps_working() -> None:
    with responses.RequestsMock() as theirs, sora_mock.mock(seed=1) as mine:
        theirs.get("https://storage.test/upload", status=204)
        assert requests.get("https://storage.test/upload").status_code == 204
        assert requests.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS).ok
    assert len(mine.calls) == 1


def test_the_mocks_own_responses_mock_takes_other_hosts() -> None:
    with sora_mock.mock(seed=1) as api:
        api.responses.get("https://storage.test/upload", status=204)
        assert requests.get("https://storage.test/upload").status_code == 204
        assert requests.post(f"{API}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS).ok
    assert len(api.calls) == 1
    with pytest.raises(UsageError, match="not active"):
        api.responses  # noqa: B018


def test_other_hosts_pass_through(server: BackgroundServer) -> None:
    with sora_mock.mock(seed=1) as api:
        live = requests.get(f"{server.base_url}/__mock/health", timeout=10)
    assert live.status_code == 200
    assert len(api.calls) == 0


def test_other_hosts_are_refused_on_request(server: BackgroundServer) -> None:
    with (
        sora_mock.mock(assert_all_mocked=True),
        pytest.raises(requests.exceptions.ConnectionError, match="Connection refused by Responses"),
    ):
        requests.get(f"{server.base_url}/__mock/health", timeout=10)


def test_a_base_url_with_a_path_prefix() -> None:
    base = "http://proxy.internal:8080/sora"
    with sora_mock.mock(base_url=base, seed=1, assert_all_mocked=True) as api:
        created = requests.post(f"{base}{CREATE_PATH}", json=VALID_BODY, headers=HEADERS)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://proxy.internal:8080/other{CREATE_PATH}", headers=HEADERS)
        with pytest.raises(requests.exceptions.ConnectionError):  # paths are case-sensitive
            requests.get(f"http://proxy.internal:8080/SORA{CREATE_PATH}", headers=HEADERS)
    assert created.status_code == 200
    assert len(api.calls) == 1
    assert api.calls[0].path == CREATE_PATH


def test_without_requests_installed_only_the_others_are_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "sora_mock.inprocess.requests_door", raising=False)
    monkeypatch.setitem(sys.modules, "requests", None)  # import requests fails
    assert "requests" not in available_routes()
    assert "aiohttp" in available_routes()
    with sora_mock.mock(seed=1) as api:
        with pytest.raises(UsageError, match=r"pip install 'sora-mock\[requests\]'"):
            api.responses  # noqa: B018
        assert api.aioresponses is not None
