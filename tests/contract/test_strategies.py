"""The strategies produce what they promise: checked against the spec and the mock."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sora_mock.contract import VIDEO_EXTENSIONS, Contract, Request, Response, strategies
from sora_mock.contract.validation import iter_request_errors, iter_response_errors
from sora_mock.engine import Engine, VirtualClock
from tests.helpers import CREATE_PATH, TOKEN, auth

CONTRACT = Contract.bundled()
#: The task id shape the vendor documents: ``task-unified-<unix seconds>-<8 of [a-z0-9]>``.
TASK_ID = re.compile(r"task-unified-[0-9]+-[a-z0-9]{8}")
ENGINE = Engine(contract=CONTRACT, clock=VirtualClock(), seed=9)


def _find(
    strategy: st.SearchStrategy[Any], condition: Any = lambda _: True, shrink: bool = False
) -> Any:
    """An example meeting ``condition``; the simplest one when ``shrink``."""
    from hypothesis import Phase, find

    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    return find(
        strategy, condition, settings=settings(database=None, max_examples=2000, phases=phases)
    )


@given(strategies.valid_create_bodies())
def test_valid_bodies_validate_and_are_accepted(body: dict[str, Any]) -> None:
    request = Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps(body).encode())
    assert list(iter_request_errors(request, CONTRACT)) == []
    response = ENGINE.handle(request)
    assert response.status == 200, response.body


@pytest.mark.parametrize("extension", VIDEO_EXTENSIONS)
def test_valid_bodies_cover_every_extension(extension: str) -> None:
    body = _find(
        strategies.valid_create_bodies(),
        lambda b: b["video_url"].lower().split("?")[0].endswith(extension),
    )
    assert body["model"] == "sora-character"


@pytest.mark.parametrize(
    "form",
    [
        lambda t: t is None,  # the default
        lambda t: t is not None and "." in t,  # decimals
        lambda t: t is not None and " " in t,  # spaces
        lambda t: t is not None and t.replace(",", "").isdigit(),  # whole seconds
    ],
)
def test_valid_bodies_cover_every_timestamp_form(form: Any) -> None:
    _find(strategies.valid_create_bodies(), lambda b: form(b.get("timestamps")))


@settings(max_examples=300)
@given(strategies.invalid_create_requests())
def test_invalid_requests_get_exactly_their_labelled_error(
    case: strategies.InvalidCreate,
) -> None:
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": case.content_type}
    response = ENGINE.handle(Request.build("POST", CREATE_PATH, headers=headers, body=case.body))
    error = response.json_body()["error"]
    assert (response.status, error["code"], error.get("param")) == (
        case.status,
        case.code,
        case.param,
    ), (case, error)


@pytest.mark.parametrize("kind", strategies.INVALID_CREATE_KINDS)
def test_every_invalid_kind_shrinks_to_a_readable_example(kind: str) -> None:
    case = _find(strategies.invalid_create_requests((kind,)), shrink=True)
    assert case.kind == kind
    assert len(case.body) < 120, case.body


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown invalid create kinds"):
        strategies.invalid_create_requests(("nope",))


@settings(max_examples=200)
@given(strategies.task_id_cases())
def test_task_id_cases_get_their_error(case: strategies.TaskIdCase) -> None:
    response = ENGINE.handle(Request.build("GET", f"/v1/tasks/{case.task_id}", headers=auth()))
    error = response.json_body()["error"]
    assert (response.status, error["code"], error.get("param")) == (
        case.status,
        case.code,
        case.param,
    )


@given(strategies.valid_task_ids())
def test_valid_task_ids_have_the_documented_shape(task_id: str) -> None:
    assert TASK_ID.fullmatch(task_id)


@settings(max_examples=120)
@given(strategies.task_bodies())
def test_task_bodies_validate_against_the_spec(body: dict[str, Any]) -> None:
    request = Request.build("GET", f"/v1/tasks/{body['id']}", headers=auth())
    assert list(iter_response_errors(request, Response.json(200, body), CONTRACT)) == []
    assert ("result_data" in body) == (body["status"] == "completed")
    assert ("error" in body) == (body["status"] == "failed")


@pytest.mark.parametrize("status", CONTRACT.enum("TaskStatus"))
def test_task_bodies_in_every_state_with_and_without_optional_fields(status: str) -> None:
    known = set(CONTRACT.document["components"]["schemas"]["TaskResponse"]["properties"])
    _find(strategies.task_bodies(status), lambda b: set(b) - known)  # unknown extra fields
    _find(strategies.task_bodies(status), lambda b: "video_duration" not in b["task_info"])
    _find(strategies.task_bodies(status), lambda b: "user_group" not in b["usage"])
    with pytest.raises(ValueError, match="status must be one of"):
        strategies.task_bodies("done")


@given(strategies.error_envelopes())
def test_error_envelopes_are_documented(pair: tuple[int, dict[str, Any]]) -> None:
    status, body = pair
    headers = (("retry-after", "3"),) if status == 429 else ()
    valid_for = []
    for method, path in (("POST", CREATE_PATH), ("GET", "/v1/tasks/task-unified-1-abcdefgh")):
        request = Request.build(method, path, headers=auth(), body=b"{}")
        if not list(iter_response_errors(request, Response.json(status, body, headers), CONTRACT)):
            valid_for.append(method)
    assert valid_for, body
