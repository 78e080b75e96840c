"""File links carry an expiry and an HMAC signature: a link the mock did not make, or one past
its time, answers the same 403 as an expired link."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from sora_mock.contract.messages import Response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.rendering import link_signature
from sora_mock.engine.store.sqlite import SqliteTaskStore
from sora_mock.server.runner import BackgroundServer
from tests.helpers import admin_call, auth, create, poll

BASE = "http://127.0.0.1:8000"


def _finished_link(engine: Engine, clock: VirtualClock, token: str = "sk-test-0123456789") -> str:
    task_id = create(engine, token=token).json_body()["id"]
    clock.advance(150)
    url: str = poll(engine, task_id, token=token).json_body()["result_data"]["profile_picture_url"]
    return url


def _get(engine: Engine, url: str) -> Response:
    path, _, query = url.removeprefix(BASE).partition("?")
    return admin_call(engine, "GET", path, client=None, query=query)


def _with(url: str, **changes: str | None) -> str:
    """``url`` with query parameters changed (None drops one)."""
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"{base}?{urlencode(params)}" if params else base


def _refused(response: Response) -> None:
    assert response.status == 403, response.body
    assert response.header("content-type") == "application/xml"
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>')
    assert b"<Code>AccessDenied</Code>" in response.body


def test_a_link_carries_an_expiry_and_a_signature(engine: Engine, clock: VirtualClock) -> None:
    url = _finished_link(engine, clock)
    params = dict(parse_qsl(url.partition("?")[2]))
    assert set(params) == {"expires", "signature"}
    assert int(params["expires"]) > clock.now()
    assert len(params["signature"]) == 64
    int(params["signature"], 16)
    response = _get(engine, url)
    assert response.status == 200
    assert response.body.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "changes",
    [
        {"expires": "0"},
        {"expires": None},
        {"signature": None},
        {"expires": None, "signature": None},
        {"signature": ""},
        {"signature": "0" * 64},
        {"signature": "zz" * 32},
        {"signature": "é"},
    ],
    ids=repr,
)
def test_a_link_changed_is_refused(
    engine: Engine, clock: VirtualClock, changes: dict[str, str | None]
) -> None:
    url = _finished_link(engine, clock)
    _refused(_get(engine, _with(url, **changes)))


def test_a_later_expiry_is_refused(engine: Engine, clock: VirtualClock) -> None:
    url = _finished_link(engine, clock)
    expires = int(dict(parse_qsl(url.partition("?")[2]))["expires"])
    _refused(_get(engine, _with(url, expires=str(expires + 1_000_000))))


def test_a_flipped_signature_is_refused(engine: Engine, clock: VirtualClock) -> None:
    url = _finished_link(engine, clock)
    signature = dict(parse_qsl(url.partition("?")[2]))["signature"]
    flipped = format(int(signature[-1], 16) ^ 1, "x")
    _refused(_get(engine, _with(url, signature=signature[:-1] + flipped)))
    _refused(_get(engine, _with(url, signature=signature.upper())))


def test_a_signature_of_another_task_or_file_is_refused(
    engine: Engine, clock: VirtualClock
) -> None:
    first = _finished_link(engine, clock)
    second = _finished_link(engine, clock)
    first_query = first.partition("?")[2]
    assert _get(engine, second).status == 200
    _refused(_get(engine, f"{second.partition('?')[0]}?{first_query}"))
    # A signature the mock made for another file name of the same task and expiry.
    path, _, query = first.partition("?")
    task_id = path.rsplit("/", 2)[1]
    expires = dict(parse_qsl(query))["expires"]
    other = link_signature(engine.link_secret, task_id, "video.mp4", int(expires))
    _refused(_get(engine, _with(first, signature=other)))


def test_a_link_of_another_mock_is_refused(tmp_path: Path) -> None:
    clocks = VirtualClock(), VirtualClock()
    first, second = (
        Engine(clock=c, seed=3, store=SqliteTaskStore(tmp_path / f"{i}.sqlite"))
        for i, c in enumerate(clocks)
    )
    url = _finished_link(first, clocks[0])  # the same ids on both, two secrets
    assert _finished_link(second, clocks[1]).partition("?")[0] == url.partition("?")[0]
    _refused(_get(second, url))
    assert _get(Engine(clock=clocks[0]), url).status == 404  # another store: no such task


def test_unseeded_mocks_sign_with_their_store_secret(clock: VirtualClock) -> None:
    engine = Engine(clock=clock)
    assert engine.link_secret == engine.store.link_secret()
    assert Engine(clock=clock).link_secret != engine.link_secret


def test_seeded_mocks_sign_alike_so_runs_repeat() -> None:
    clocks = VirtualClock(), VirtualClock()
    first, second = (Engine(clock=c, seed=3) for c in clocks)
    assert _finished_link(first, clocks[0]) == _finished_link(second, clocks[1])
    assert Engine(clock=clocks[0], seed=4).link_secret != first.link_secret


def test_an_expired_link_is_refused(engine: Engine, clock: VirtualClock) -> None:
    url = _finished_link(engine, clock)
    expires = int(dict(parse_qsl(url.partition("?")[2]))["expires"])
    clock.set(expires - 1)
    assert _get(engine, url).status == 200
    clock.set(expires)
    response = _get(engine, url)
    _refused(response)
    assert b"Request has expired" in response.body


def test_the_signature_is_hmac_sha256_over_task_file_and_expiry(
    engine: Engine, clock: VirtualClock
) -> None:
    url = _finished_link(engine, clock)
    path, _, query = url.removeprefix(BASE).partition("?")
    task_id, name = path.removeprefix("/__mock/files/").split("/")
    params = dict(parse_qsl(query))
    message = f"{task_id}\n{name}\n{params['expires']}".encode()
    expected = hmac.new(engine.link_secret, message, hashlib.sha256).hexdigest()
    assert params["signature"] == expected


def test_links_hold_across_engines_on_one_state_file(clock: VirtualClock, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = Engine(clock=clock, seed=1, store=SqliteTaskStore(state))
    url = _finished_link(first, clock)
    restarted = Engine(clock=clock, seed=2, store=SqliteTaskStore(state))
    assert _get(restarted, url).status == 200


def test_a_link_over_http(server: BackgroundServer, clock: VirtualClock) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        task_id = client.post("/v1/videos/generations", json=_body(), headers=auth()).json()["id"]
        clock.advance(150)
        url = client.get(f"/v1/tasks/{task_id}", headers=auth()).json()["result_data"][
            "profile_picture_url"
        ]
        assert client.get(url).status_code == 200
        refused = client.get(_with(url, signature=None))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/xml"


def _body() -> dict[str, str]:
    return {
        "model": "sora-character",
        "video_url": "https://example.com/video.mp4",
        "timestamps": "1,3",
    }
