"""Over many generated requests, every response the engine gives validates against the spec."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sora_mock.contract import strategies
from sora_mock.contract.messages import Request
from sora_mock.contract.openapi import Contract
from sora_mock.contract.validation import iter_request_errors, iter_response_errors
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from tests.helpers import CREATE_PATH, create

ENGINE = Engine(clock=VirtualClock(), seed=11)
CONTRACT = Contract.bundled()
# A few tasks to poll, in every state.
KNOWN = [create(ENGINE).json_body()["id"] for _ in range(3)]


def _headers(token: str | None, content_type: str | None = None) -> dict[str, str]:
    headers = {}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if content_type is not None:
        headers["content-type"] = content_type
    return headers


@settings(max_examples=400)
@given(strategies.create_requests(), st.floats(0, 400))
def test_every_create_response_validates(
    request_parts: tuple[str | None, str, bytes], advance: float
) -> None:
    token, content_type, body = request_parts
    ENGINE.clock.advance(advance)  # type: ignore[attr-defined]
    request = Request.build("POST", CREATE_PATH, headers=_headers(token, content_type), body=body)
    response = ENGINE.handle(request)
    assert response.status < 500 or token == "sk-demo-broken"
    assert list(iter_response_errors(request, response, CONTRACT)) == []


@settings(max_examples=400)
@given(
    st.one_of(strategies.task_ids(), st.sampled_from(KNOWN)),
    st.sampled_from(["sk-test-0123456789", "sk-other-99999999", "sk-demo-overdrawn", None]),
    st.floats(0, 60),
)
def test_every_task_response_validates(task_id: str, token: str | None, advance: float) -> None:
    ENGINE.clock.advance(advance)  # type: ignore[attr-defined]
    request = Request.build("GET", f"/v1/tasks/{task_id}", headers=_headers(token))
    response = ENGINE.handle(request)
    assert response.status < 500
    assert list(iter_response_errors(request, response, CONTRACT)) == []


@given(strategies.valid_create_bodies())
def test_generated_valid_bodies_are_valid_and_accepted(body: dict) -> None:  # type: ignore[type-arg]
    import json

    request = Request.build(
        "POST",
        CREATE_PATH,
        headers=_headers("sk-valid-000001", "application/json"),
        body=json.dumps(body).encode(),
    )
    assert list(iter_request_errors(request, CONTRACT)) == []
    response = ENGINE.handle(request)
    assert response.status == 200, response.body
