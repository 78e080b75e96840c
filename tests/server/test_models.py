"""Each bundled model end to end, over real HTTP and in-process: the same answers both ways."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

import sora_mock
from sora_mock.contract import Contract
from sora_mock.engine import Engine, MockConfig, VirtualClock
from sora_mock.inprocess import DEFAULT_BASE_URL
from sora_mock.server import BackgroundServer
from tests.helpers import CREATE_PATH, auth

MODELS = ("sora-character", "sora-2-preview")
DOORS = ("http", "inprocess")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Door:
    """A client of a mock, and a way to move the mock's clock."""

    client: httpx.Client
    advance: Callable[[float], object]


@contextlib.contextmanager
def open_door(kind: str, config: Mapping[str, Any] | None = None) -> Iterator[Door]:
    """A mock of the bundled contract behind ``kind``: a server thread on port 0, or
    ``sora_mock.mock()`` answering an httpx client in-process."""
    settings = MockConfig.defaults().with_overrides(config or {})
    if kind == "http":
        clock = VirtualClock()
        engine = Engine(config=settings, clock=clock, seed=1)
        with BackgroundServer(engine) as server, httpx.Client(base_url=server.base_url) as client:
            yield Door(client, clock.advance)
        return
    with (
        sora_mock.mock(config=settings, seed=1) as api,
        httpx.Client(base_url=DEFAULT_BASE_URL) as client,
    ):
        yield Door(client, api.advance)


def _example(model: str) -> dict[str, Any]:
    example = Contract.bundled().tasks.models[model].example
    assert example is not None, f"{model} documents no request example"
    return dict(example)


def _create_and_finish(door: Door, model: str) -> dict[str, Any]:
    """Create a task of ``model`` and poll it on the virtual clock until it ends."""
    created = door.client.post(CREATE_PATH, json=_example(model), headers=auth())
    assert created.status_code == 200, created.text
    task = created.json()
    assert (task["model"], task["status"]) == (model, "pending")
    seen = []
    for _ in range(100):
        door.advance(5)
        polled = door.client.get(f"/v1/tasks/{task['id']}", headers=auth())
        assert polled.status_code == 200, polled.text
        body: dict[str, Any] = polled.json()
        seen.append(body["status"])
        if body["status"] in ("completed", "failed"):
            break
    assert seen[-1] == "completed", seen
    assert "processing" in seen
    return body


@pytest.mark.parametrize("kind", DOORS)
def test_a_character_completes_with_a_png_picture(kind: str) -> None:
    with open_door(kind) as door:
        body = _create_and_finish(door, "sora-character")
        link = body["result_data"]["profile_picture_url"]
        assert body["results"] == [link]
        assert body["result_data"]["character_name"].startswith("chr_")
        picture = door.client.get(link)
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("kind", DOORS)
def test_a_video_completes_with_an_mp4(kind: str) -> None:
    with open_door(kind) as door:
        body = _create_and_finish(door, "sora-2-preview")
        (link,) = body["results"]
        assert "result_data" not in body
        video = door.client.get(link)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"  # an ISO media file starts with its ftyp box


@pytest.mark.parametrize("kind", DOORS)
def test_an_unknown_model_is_refused_naming_the_model_field(kind: str) -> None:
    with open_door(kind) as door:
        body = {**_example("sora-2-preview"), "model": "sora-9000"}
        refused = door.client.post(CREATE_PATH, json=body, headers=auth())
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["param"] == "model"
    assert "sora-9000" in error["message"]
    assert set(error) >= {"code", "message", "type", "param"}


@pytest.mark.parametrize("kind", DOORS)
def test_a_token_limited_to_one_model_is_refused_the_other(kind: str) -> None:
    token = "sk-characters-only"
    config = {"tokens": {token: {"models": ["sora-character"]}}}
    with open_door(kind, config) as door:
        allowed = door.client.post(
            CREATE_PATH, json=_example("sora-character"), headers=auth(token)
        )
        refused = door.client.post(
            CREATE_PATH, json=_example("sora-2-preview"), headers=auth(token)
        )
    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["message"].endswith("sora-2-preview")


@pytest.mark.parametrize("kind", DOORS)
@pytest.mark.parametrize("path", ["/openapi.yaml", "/__mock/spec"])
def test_the_mock_serves_the_merged_document(kind: str, path: str) -> None:
    with open_door(kind) as door:
        served = door.client.get(path)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(served.text)
    bundled = Contract.bundled()
    assert document == json.loads(json.dumps(bundled.document, default=str))
    # The document alone describes both models: read back, it has their request schemas.
    tasks = Contract(document).tasks
    assert set(tasks.models) == set(MODELS)
    for model in MODELS:
        assert tasks.models[model].request_schema == bundled.tasks.models[model].request_schema
