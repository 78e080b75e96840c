"""The server's compiled validator and the openapi-core reference agree, like for like.

What each covers:

- The JSON Schema layer. The server validates create bodies with ``jsonschema-rs`` validators
  compiled from the spec (``Contract.request_validators``); the reference is openapi-core,
  reading the same spec. Both see the same schema (types, enum, required, ``format: uri``,
  the ``timestamps`` pattern), so on every body they must give the same verdict.
- The semantic rules (``sora_mock.contract.request_rules``: http(s) and a host, the video extension, the
  timestamp span, callback hosts) are not in the spec, so openapi-core knows nothing of
  them. The server's full decision (what ``Engine`` answers for create) is therefore
  compared with *reference schema verdict + the same rules*: accepted by one iff accepted
  by the other, and a 400 names the same ``param``.
- Response schemas: the checker pre-screens responses with compiled validators
  (``Contract.response_validators``) and asks the reference only about suspects, so those
  must agree too.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sora_mock.contract import (
    DEFAULT_TIMESTAMPS,
    Contract,
    Request,
    Response,
    callback_url_problem,
    parse_timestamps,
    strategies,
    video_url_problem,
)
from sora_mock.contract.validation import Mismatch, iter_request_errors, iter_response_errors
from sora_mock.engine import Engine, VirtualClock
from tests.helpers import CREATE_PATH, auth

CONTRACT = Contract.bundled()
COMPILED = CONTRACT.request_validators["createCharacterGeneration"]
ENGINE = Engine(contract=CONTRACT, clock=VirtualClock(), seed=5)
FIELD_ORDER = ("model", "video_url", "timestamps", "callback_url")

# Strings that probe the two regex and URI engines where they are known to differ:
# Unicode spaces, control characters, odd URI characters.
_TRICKY = st.text(
    alphabet=st.sampled_from(
        list("0123456789.,: /?#[]@%-_~ab\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u2028\ufeffü\\<>")
    ),
    max_size=16,
)
bodies = st.one_of(
    strategies.valid_create_bodies(),
    strategies.any_create_bodies(),
    strategies.invalid_create_requests().map(lambda case: _maybe_json(case.body)),
    st.fixed_dictionaries(
        {"model": st.just("sora-character"), "video_url": strategies.video_urls()},
        optional={"timestamps": _TRICKY, "callback_url": _TRICKY},
    ),
    st.fixed_dictionaries(
        {
            "model": st.just("sora-character"),
            "video_url": st.one_of(_TRICKY, _TRICKY.map(lambda s: f"https://e.com/{s}.mp4")),
        }
    ),
).filter(lambda body: isinstance(body, dict))


def _maybe_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _reference_schema_errors(body: dict[str, Any]) -> list[Mismatch]:
    request = Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps(body).encode())
    return list(iter_request_errors(request, CONTRACT))


def _reference_decision(body: dict[str, Any]) -> str | None:
    """The param a 400 must name per reference schema + rules, or None when accepted."""
    errors = _reference_schema_errors(body)
    if errors:
        fields = {e.path.split(".")[1] for e in errors if e.path.startswith("body.")}
        return next(f for f in FIELD_ORDER if f in fields)
    if video_url_problem(body["video_url"]):
        return "video_url"
    if isinstance(parse_timestamps(body.get("timestamps", DEFAULT_TIMESTAMPS)), str):
        return "timestamps"
    callback = body.get("callback_url")
    if callback is not None and callback_url_problem(callback, allow_loopback=False):
        return "callback_url"
    return None


@settings(max_examples=400)
@given(bodies)
def test_schema_layer_verdicts_agree(body: dict[str, Any]) -> None:
    compiled_ok = COMPILED.is_valid(body)
    reference = _reference_schema_errors(body)
    assert compiled_ok == (not reference), (body, reference)


@settings(max_examples=400)
@given(bodies)
def test_engine_decision_equals_reference_plus_rules(body: dict[str, Any]) -> None:
    request = Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps(body).encode())
    response = ENGINE.handle(request)
    expected_param = _reference_decision(body)
    if expected_param is None:
        assert response.status == 200, (body, response.body)
    else:
        assert response.status == 400, (body, expected_param)
        assert response.json_body()["error"]["param"] == expected_param, (body, response.body)


def _broken(task: dict[str, Any], how: int) -> dict[str, Any]:
    task = json.loads(json.dumps(task))
    if how == 1:
        task["progress"] = 101
    elif how == 2:
        task.pop("usage")
    elif how == 3:
        task["result_data"] = {"character_name": "x", "profile_picture_url": "not a uri"}
    elif how == 4:
        task["id"] = task["id"].upper()
    elif how == 5:
        task["status"] = "done"
    return task


@settings(max_examples=150)
@given(strategies.task_bodies(), st.integers(0, 5))
def test_response_verdicts_agree(task: dict[str, Any], how: int) -> None:
    body = _broken(task, how)
    compiled_ok = CONTRACT.response_validators[("getTaskDetail", 200)].is_valid(body)
    request = Request.build("GET", f"/v1/tasks/{task['id']}", headers=auth())
    reference = list(iter_response_errors(request, Response.json(200, body), CONTRACT))
    assert compiled_ok == (not reference), (body, reference)
    assert compiled_ok == (how == 0)


def _reference_request_errors(request: Request) -> list[Any]:
    from sora_mock.contract.validation import _openapi_request

    return list(CONTRACT.openapi.iter_request_errors(_openapi_request(request, CONTRACT)))


@settings(max_examples=300)
@given(
    st.sampled_from(
        [
            "POST /v1/videos/generations",
            "GET /v1/tasks/task-unified-1-abcdefgh",
            "GET /v1/videos/generations",
            "POST /v1/tasks/x",
            "GET /v2/nothing",
        ]
    ),
    strategies.create_requests(),
    st.sampled_from(["", "a=1"]),
)
def test_the_fast_screen_never_passes_what_openapi_core_refuses(
    route: str, parts: tuple[str | None, str, bytes], query: str
) -> None:
    from sora_mock.contract.validation import surely_valid_request

    method, path = route.split(" ")
    token, content_type, body = parts
    headers = {"content-type": content_type}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    request = Request.build(
        method, path, query=query, headers=headers, body=body if method == "POST" else b""
    )
    if surely_valid_request(request, CONTRACT):
        assert _reference_request_errors(request) == [], request


@given(strategies.valid_create_bodies())
def test_the_fast_screen_passes_valid_creates(body: dict[str, Any]) -> None:
    from sora_mock.contract.validation import surely_valid_request

    request = Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps(body).encode())
    assert surely_valid_request(request, CONTRACT)
    assert _reference_request_errors(request) == []
