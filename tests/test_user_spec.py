"""A spec a user writes from scratch, in a temporary file: a made-up task API with its own
paths, operation ids, id shape, model field, request fields, task body and result. The
mock serves it (over HTTP and in-process), the checker finds it keeps its contract, and
the conformance harness judges a client written for it: no code of sora-mock changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

import sora_mock
from sora_mock.checker import Checker, CheckOptions
from sora_mock.conformance import Harness, Target
from sora_mock.contract import Contract
from sora_mock.engine import Engine, VirtualClock
from sora_mock.inprocess import DEFAULT_BASE_URL, MockAPI
from sora_mock.server import BackgroundServer
from tests.conformance_clients import polite
from tests.helpers import serve_command

if TYPE_CHECKING:  # the example is loaded by path at run time; mypy reads it as a module
    from examples.clients.polite_client import CharacterClient as PoliteClient
else:
    PoliteClient = polite.CharacterClient

TOON = """\
openapi: 3.1.0
info:
  title: Toon avatars (a made-up task API)
  version: 0.1.0
security:
  - key: []
paths:
  /v2/avatars:
    post:
      operationId: drawAvatar
      x-sora-mock:
        role: create-task
        model-field: engine
        task-id: 'job-{random:12}'
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/AvatarRequest'}
            examples:
              basic:
                value: {engine: toon-1, photo_url: 'https://example.com/me.png', style: anime}
      responses:
        '200':
          description: The job, queued.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
        '400': {$ref: '#/components/responses/BadRequest'}
        '401': {$ref: '#/components/responses/Unauthorized'}
  /v2/avatars/{job_id}:
    get:
      operationId: getAvatarJob
      x-sora-mock:
        role: read-task
        id-parameter: job_id
        task:
          job: '{id}'
          engine: '{model}'
          state: '{status}'
          percent: '{progress}'
          queued_at: '{created}'
          eta_seconds: '{eta}'
        failed:
          problem: {reason: '{failure_code}', detail: '{failure_message}'}
      parameters:
        - name: job_id
          in: path
          required: true
          schema: {type: string, pattern: '^job-[a-z0-9]{12}$'}
      responses:
        '200':
          description: The job.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
        '400': {$ref: '#/components/responses/BadRequest'}
        '401': {$ref: '#/components/responses/Unauthorized'}
        '403':
          description: Another account's job.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
              example: {error: {code: forbidden, message: Not your job, type: auth_error}}
        '404':
          description: No such job.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
              example: {error: {code: no_job, message: No such job, type: not_found}}
components:
  securitySchemes:
    key: {type: http, scheme: bearer}
  responses:
    BadRequest:
      description: Bad request.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
          example: {error: {code: bad_request, message: Bad request, type: request_error}}
    Unauthorized:
      description: No key.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
          example: {error: {code: no_key, message: Missing key, type: auth_error}}
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code, message, type]
          properties:
            code: {type: string}
            message: {type: string}
            type: {type: string}
            param: {type: string}
    AvatarRequest:
      type: object
      required: [engine, photo_url]
      x-sora-mock:
        lifecycle:
          pending_seconds: 2
          processing_seconds: 8
          outcome: completed
          failure: {code: photo_unreadable, message: The photo could not be read}
        failure-codes: [photo_unreadable, style_rejected]
        values:
          eta: 10
          nickname: {generate: 'toon_{letters:6}'}
          avatar: {file: {type: image/png, name: avatar.png, ttl: 3600}}
        completed:
          output: {image: '{avatar}', nickname: '{nickname}'}
      properties:
        engine: {type: string, enum: [toon-1]}
        photo_url:
          type: string
          format: uri
          pattern: '^https://[^/]+/.+[.](png|jpg)$'
          x-sora-mock: {message: photo_url must be an https link to a .png or .jpg}
        style: {type: string, enum: [anime, sketch], default: anime}
    Job:
      type: object
      required: [job, engine, state, percent, queued_at]
      allOf:
        - if: {properties: {state: {const: completed}}, required: [state]}
          then: {required: [output]}
        - if: {properties: {state: {const: failed}}, required: [state]}
          then: {required: [problem]}
      properties:
        job: {type: string, pattern: '^job-[a-z0-9]{12}$'}
        engine: {type: string}
        state: {enum: [pending, processing, completed, failed]}
        percent: {type: integer, minimum: 0, maximum: 100}
        queued_at: {type: integer}
        eta_seconds: {type: integer}
        output:
          type: object
          required: [image, nickname]
          properties:
            image: {type: string, format: uri}
            nickname: {type: string, pattern: '^toon_[A-Za-z]{6}$'}
        problem:
          type: object
          required: [reason, detail]
          properties:
            reason: {enum: [photo_unreadable, style_rejected]}
            detail: {type: string}
"""
AUTH = {"authorization": "Bearer sk-toon-0123456789"}
BODY = {"engine": "toon-1", "photo_url": "https://example.com/me.png"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user-spec") / "toon.yaml"
    path.write_text(TOON, encoding="utf-8")
    return path


def _create_and_finish(client: httpx.Client, advance: Any) -> dict[str, Any]:
    created = client.post("/v2/avatars", json=BODY, headers=AUTH)
    assert created.status_code == 200, created.text
    job = created.json()
    assert (job["job"][:4], job["state"]) == ("job-", "pending"), job
    assert job["eta_seconds"] == 10
    advance(11)
    done = client.get(f"/v2/avatars/{job['job']}", headers=AUTH)
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    assert (body["state"], body["percent"]) == ("completed", 100), body
    assert body["output"]["nickname"].startswith("toon_")
    return body


def _refusals(client: httpx.Client) -> None:
    unknown = client.post("/v2/avatars", json={**BODY, "engine": "toon-9"}, headers=AUTH)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "engine"
    bad = client.post("/v2/avatars", json={**BODY, "photo_url": "ftp://x/y.gif"}, headers=AUTH)
    assert bad.json()["error"] == {
        "code": "bad_request",
        "message": "photo_url must be an https link to a .png or .jpg",
        "type": "request_error",
        "param": "photo_url",
    }
    assert client.get("/v2/avatars/task-1", headers=AUTH).status_code == 400
    assert client.get("/v2/avatars/job-000000000000", headers=AUTH).json()["error"]["code"] == (
        "no_job"
    )


def test_the_mock_serves_a_user_spec_over_http(spec: Path) -> None:
    clock = VirtualClock()
    engine = Engine(contract=Contract.load([spec]), clock=clock, seed=5)
    with BackgroundServer(engine) as server, httpx.Client(base_url=server.base_url) as client:
        done = _create_and_finish(client, clock.advance)
        picture = client.get(done["output"]["image"])
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG\r\n\x1a\n")
        _refusals(client)
        served = client.get("/openapi.yaml")
        assert "drawAvatar" in served.text
        assert "toon-1" in served.text


def test_the_mock_serves_a_user_spec_in_process(spec: Path) -> None:
    with (
        sora_mock.mock(spec=spec, seed=5) as api,
        httpx.Client(base_url=DEFAULT_BASE_URL) as client,
    ):
        done = _create_and_finish(client, api.advance)
        assert [call.operation for call in api.calls] == ["drawAvatar", "getAvatarJob"]
        api.assert_all_requests_valid()
        _refusals(client)
    assert done["engine"] == "toon-1"


def test_sora_mock_serve_loads_the_user_spec_from_the_command_line(spec: Path) -> None:
    with serve_command("--spec", str(spec), says="serving 1 model (toon-1) on ") as (_, url):
        created = httpx.post(f"{url}/v2/avatars", json=BODY, headers=AUTH, timeout=10)
        assert created.status_code == 200, created.text


def test_the_checker_finds_the_mock_keeps_the_user_spec(spec: Path) -> None:
    contract = Contract.load([spec])
    options = CheckOptions(
        token="sk-toon-owner-01",
        other_token="sk-toon-other-02",
        max_examples=10,
        seed=3,
        max_tasks=2,
        poll_interval=2,
        timeout=120,
    )
    api = MockAPI(spec=contract, seed=3)
    with httpx.Client(base_url=DEFAULT_BASE_URL, transport=api.transport()) as client:
        result = Checker(client, options, contract, sleep=api.sleep, clock=api.clock.now).run()
    assert not result.ledger.failures, [f"{f.rule}: {f.message}" for f in result.ledger.failures]
    assert any(json.loads(c.response.body).get("engine") == "toon-1" for c in api.calls.creates)
    assert result.ledger.checked["id_shape"] > 0


class ToonClient(PoliteClient):
    """The polite example client, for the toon API: another task path and task body."""

    task_path = "/v2/avatars/{task_id}"

    def read_task(self, task: dict[str, Any]) -> Any:
        if task["state"] == "completed":
            return task["output"]
        if task["state"] == "failed":
            problem = task["problem"]
            raise polite.TaskFailed(problem["detail"], error_code=problem["reason"])
        return None


def toon_client(target: Target) -> dict[str, Any]:
    client = ToonClient(target.base_url, target.api_key)
    try:
        job = client.call("POST", "/v2/avatars", dict(target.body))
        output = cast(dict[str, Any], client.wait(job["job"]))  # read_task gives the output
    finally:
        client.http.close()
    return {"status": "completed", "nickname": output["nickname"], "result": output["image"]}


def test_the_conformance_harness_judges_a_client_of_the_user_spec(spec: Path) -> None:
    harness = Harness(contract=Contract.load([spec]), examples=0)
    assert harness.subject.model.name == "toon-1"
    report = harness.check(toon_client)
    assert report.passed, report.to_text()
    names = {result.situation.name for result in report.results}
    assert {"success", "fail-photo_unreadable", "fail-style_rejected"} <= names


def test_the_conformance_harness_flags_a_client_that_invents_its_result(spec: Path) -> None:
    def liar(target: Target) -> dict[str, Any]:
        return {**toon_client(target), "nickname": "toon_Invent"}

    harness = Harness(contract=Contract.load([spec]), examples=0)
    verdict = harness.check(liar, ["success"]).result("success").verdict("outcome")
    assert verdict.failed
    assert "reported nickname 'toon_Invent', but the task made toon_" in verdict.message


def test_a_config_mapping_names_the_user_spec_s_own_failure_codes(spec: Path) -> None:
    scenario = {
        "name": "rejected",
        "task": {"outcome": "failed", "failure": {"code": "style_rejected"}},
    }
    api = MockAPI(spec=spec, config={"scenarios": [scenario]})
    assert "rejected" in api.engine.scenario_names()
