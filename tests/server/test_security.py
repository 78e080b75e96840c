"""Security defaults: loopback only unless told, tasks private to their token, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import cache

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora_mock.cli import build_parser
from sora_mock.contract.messages import Request
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import mask_token
from sora_mock.server.protocols import HttpName
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth, create, error_of, poll
from tests.rawhttp import exchange, request

ALICE = "sk-alice-0123456789"


def test_serve_binds_to_loopback_by_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"


def test_background_server_listens_on_loopback_only(engine: Engine) -> None:
    with BackgroundServer(engine) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert [s.getsockname()[0] for s in server._sockets] == ["127.0.0.1"]


@pytest.mark.parametrize(
    "other",
    [
        "sk-alice-012345678",  # a prefix
        "sk-alice-01234567890",  # an extension
        "SK-ALICE-0123456789",  # another case
        "sk-alice-0123456788",  # one character off
        "sk-alice-0123456789=",
        "sk-bob-0123456789",
    ],
)
def test_near_miss_tokens_cannot_read_a_task(engine: Engine, other: str) -> None:
    task_id = create(engine, token=ALICE).json_body()["id"]
    response = poll(engine, task_id, token=other)
    assert response.status == 403
    assert error_of(response)["code"] == "permission_denied"
    assert task_id not in response.body.decode()


@pytest.mark.parametrize(
    "header", ["bearer " + ALICE, "Bearer   " + ALICE + "  ", "BEARER " + ALICE]
)
def test_the_same_token_written_differently_is_the_same_owner(engine: Engine, header: str) -> None:
    task_id = create(engine, token=ALICE).json_body()["id"]
    headers = {"authorization": header}
    response = engine.handle(Request.build("GET", f"/v1/tasks/{task_id}", headers=headers))
    assert response.status == 200


TOKENS = st.from_regex(r"[A-Za-z0-9._~+/-]{1,40}", fullmatch=True)


@cache
def _shared_engine() -> Engine:
    return Engine(clock=VirtualClock(), seed=5)  # a fresh task per example is enough


@given(owner=TOKENS, reader=TOKENS)
def test_no_token_reads_another_tokens_task(owner: str, reader: str) -> None:
    engine = _shared_engine()
    task_id = create(engine, token=owner).json_body()["id"]
    response = poll(engine, task_id, token=reader)
    if reader == owner:
        assert response.status == 200
    else:
        assert response.status == 403
        assert response.json_body() == {
            "error": {
                "code": "permission_denied",
                "message": "You don't have permission to access this task",
                "type": "invalid_request_error",
            }
        }


def test_health_reveals_no_task_or_token(engine: Engine) -> None:
    create(engine, token=ALICE)
    with BackgroundServer(engine) as server:
        body = httpx.get(f"{server.base_url}/__mock/health").json()
    assert body == {"status": "ok", "tasks": 1}


# -- secrets in logs and the journal --------------------------------------------------------

SECRETS = [
    "sk-live-secret-0123456789abcdef",
    "sk-demo-no-credits",  # a configured demo token is still a token
    "sk-rate/limited+token==",
]


@pytest.fixture
def logged_server(engine: Engine) -> Iterator[BackgroundServer]:
    with BackgroundServer(engine, log_requests=True) as server:
        yield server


def test_tokens_never_appear_whole_in_logs_or_the_journal(
    logged_server: BackgroundServer, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = logged_server.base_url
    with httpx.Client(base_url=base, timeout=10) as client:
        for secret in SECRETS:
            created = client.post(CREATE_PATH, json=VALID_BODY, headers=auth(secret))
            task_id = created.json().get("id", "task-unified-1-abcdefgh")
            client.get(f"/v1/tasks/{task_id}", headers=auth(secret))
            client.get(f"/v1/tasks/{task_id}?x=1", headers=auth(secret))
            client.post(CREATE_PATH, content=b"{", headers=auth(secret))
            client.get("/v1/tasks/nope", headers={"authorization": f"Token {secret}"})
            client.get("/v1/tasks/nope", headers={"authorization": f"Bearer {secret} extra"})
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) >= 6 * len(SECRETS)
    journal = json.dumps([entry.as_dict() for entry in engine.journal], ensure_ascii=False)
    for secret in SECRETS:
        assert not any(secret in line for line in lines), secret
        assert secret not in journal
    masked = mask_token(SECRETS[0])
    assert masked is not None
    assert masked in journal


@pytest.mark.parametrize(
    "target", ["/v1/tasks/x%0d%0aFAKE%20LOG%20LINE", "/__mock/x%1b%5b31mred%0a", "/%e2%80%ae"]
)
def test_a_request_log_line_stays_one_line(
    logged_server: BackgroundServer, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    caplog.set_level(logging.INFO, logger="sora_mock.requests")
    exchange(logged_server.base_url, request("GET", target, headers={"Authorization": "Bearer a"}))
    lines = [r.getMessage() for r in caplog.records if r.name == "sora_mock.requests"]
    assert len(lines) == 1
    assert lines[0].isprintable(), lines[0]
    assert "-> 40" in lines[0]


# -- strings that are not Unicode ------------------------------------------------------------

LONE_SURROGATE_BODY = (
    b'{"model": "sora-character", "video_url": "https://example.com/v\\ud800.mp4",'
    b' "timestamps": "1,3"}'
)


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_a_lone_surrogate_escape_gets_the_create_400_over_http(
    engine: Engine, http: HttpName, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with BackgroundServer(engine, http=http) as server:
        headers = {"Authorization": f"Bearer {ALICE}", "Content-Type": "application/json"}
        raw = request("POST", CREATE_PATH, headers=headers, body=LONE_SURROGATE_BODY)
        answer = exchange(server.base_url, raw)
        assert answer.status == 400, answer.raw
        assert answer.json()["error"]["code"] == "invalid_request"
        assert answer.json()["error"]["param"] == "video_url"
        journal = httpx.get(f"{server.base_url}/__mock/journal", timeout=10)
        assert journal.status_code == 200
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


# -- the admin API and web pages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        # A page on another site posting text (a "simple" request: no preflight).
        (
            "/__mock/clock/advance",
            {"Origin": "https://evil.example", "Content-Type": "text/plain"},
            b'{"seconds": 3600}',
        ),
        ("/__mock/reset", {"Origin": "https://evil.example", "Content-Type": "text/plain"}, b"x"),
        (
            "/__mock/scenarios",
            {"Origin": "null", "Content-Type": "application/x-www-form-urlencoded"},
            b"scenarios=1",
        ),
        # DNS rebinding: the page's own origin, a foreign name that resolves to loopback.
        (
            "/__mock/clock/advance",
            {"Host": "rebind.evil.example:8000", "Content-Type": "application/json"},
            b'{"seconds": 3600}',
        ),
    ],
)
def test_a_web_page_cannot_drive_the_admin_api_over_http(
    server: BackgroundServer,
    engine: Engine,
    clock: VirtualClock,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    task_id = create(engine).json_body()["id"]
    start = clock.now()
    raw = request("POST", path, headers=headers, body=body)
    if "Host" in headers:
        raw = raw.replace(b"Host: 127.0.0.1\r\n", b"", 1)
    answer = exchange(server.base_url, raw)
    assert answer.status == 403, answer.raw
    assert answer.json()["error"]["code"] == "admin_forbidden"
    assert clock.now() == start
    assert engine.store.get(task_id) is not None
    # A tool on this machine still drives it.
    allowed = exchange(
        server.base_url,
        request(
            "POST",
            "/__mock/clock/advance",
            headers={"Content-Type": "application/json"},
            body=b'{"seconds": 1}',
        ),
    )
    assert allowed.status == 200


def test_journal_reads_need_a_loopback_host_over_http(server: BackgroundServer) -> None:
    rebound = request("GET", "/__mock/journal").replace(
        b"Host: 127.0.0.1", b"Host: rebind.evil.example"
    )
    assert exchange(server.base_url, rebound).status == 403
    assert httpx.get(f"{server.base_url}/__mock/journal", timeout=10).status_code == 200
    assert (
        httpx.get(
            f"http://localhost:{server.base_url.rsplit(':', 1)[1]}/__mock/journal"
        ).status_code
        == 200
    )
