"""The strategies produce what they promise: checked against the contract and the mock."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sora_mock.contract import CheckedBody, Contract, Request, RequestCheck, Response, strategies
from sora_mock.contract.validation import iter_request_errors, iter_response_errors
from sora_mock.engine import Engine, VirtualClock
from tests.contract.conftest import TOY_MODEL
from tests.helpers import CREATE_PATH, TOKEN, auth

CONTRACT = Contract.bundled()
CHECK = RequestCheck(CONTRACT)
MODELS = tuple(CONTRACT.tasks.models)
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


def _create(engine: Engine, body: bytes, content_type: str = "application/json") -> Response:
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": content_type}
    return engine.handle(Request.build("POST", CREATE_PATH, headers=headers, body=body))


def test_both_bundled_models_are_drawn() -> None:
    for model in MODELS:
        _find(strategies.valid_create_bodies(), lambda b, m=model: b["model"] == m)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60)
@given(data=st.data())
def test_valid_bodies_validate_and_are_accepted(model: str, data: st.DataObject) -> None:
    body = data.draw(strategies.valid_create_bodies(model=model))
    assert body["model"] == model
    assert isinstance(CHECK.check(body), CheckedBody), CHECK.problem(body)
    request = Request.build("POST", CREATE_PATH, headers=auth(), body=json.dumps(body).encode())
    assert list(iter_request_errors(request, CONTRACT)) == []
    response = ENGINE.handle(request)
    assert response.status == 200, response.body
    assert response.json_body()["model"] == model


@pytest.mark.parametrize(
    ("model", "field", "ending"),
    [
        *[("sora-character", "video_url", ext) for ext in (".mp4", ".mov", ".webm")],
        *[("sora-2-preview", "image_urls", ext) for ext in (".jpg", ".jpeg", ".png", ".webp")],
    ],
)
def test_valid_bodies_cover_every_alternative_of_a_pattern(
    model: str, field: str, ending: str
) -> None:
    def ends(body: dict[str, Any]) -> bool:
        values = body.get(field)
        urls = values if isinstance(values, list) else [values]
        return any(
            isinstance(url, str) and url.lower().split("?")[0].split("#")[0].endswith(ending)
            for url in urls
        )

    _find(strategies.valid_create_bodies(model=model), ends)


@pytest.mark.parametrize(
    "form",
    [
        lambda t: t is None,  # the default
        lambda t: t is not None and "." in t,  # decimals
        lambda t: t is not None and " " in t,  # spaces
        lambda t: t is not None and t.replace(",", "").isdigit(),  # whole seconds
    ],
)
def test_valid_bodies_cover_every_span_form(form: Any) -> None:
    _find(
        strategies.valid_create_bodies(model="sora-character"), lambda b: form(b.get("timestamps"))
    )


@pytest.mark.parametrize("model", MODELS)
def test_valid_bodies_have_optional_and_unknown_fields_sometimes(model: str) -> None:
    tasks = CONTRACT.tasks
    fields = set(tasks.models[model].fields)
    bodies = strategies.valid_create_bodies(model=model)
    _find(bodies, lambda b: set(b) - fields)  # unknown extra fields
    for field in fields:
        _find(bodies, lambda b, f=field: f in b)


def test_a_callback_field_gets_an_https_url_on_a_public_host() -> None:
    body = _find(strategies.valid_create_bodies(), lambda b: "callback_url" in b)
    assert body["callback_url"].startswith("https://")


@settings(max_examples=300)
@given(strategies.invalid_create_requests())
def test_invalid_requests_get_exactly_their_labelled_error(
    case: strategies.InvalidCreate,
) -> None:
    _assert_answered(case)


def _assert_answered(case: strategies.InvalidCreate) -> None:
    """The mock answers ``case`` with exactly the error it is labelled with."""
    response = _create(ENGINE, case.body, case.content_type)
    error = response.json_body()["error"]
    assert (response.status, error["code"], error.get("param")) == (
        case.status,
        case.code,
        case.param,
    ), (case, error)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", strategies.INVALID_CREATE_KINDS)
def test_every_kind_of_every_model_gets_its_labelled_error(model: str, kind: str) -> None:
    if kind not in strategies.invalid_create_kinds(model=model):
        with pytest.raises(ValueError, match="offers none"):
            strategies.invalid_create_requests((kind,), model=model)
        return

    @settings(max_examples=25, database=None)
    @given(strategies.invalid_create_requests((kind,), model=model))
    def check(case: strategies.InvalidCreate) -> None:
        assert case.kind == kind
        assert case.model in (model, None)
        _assert_answered(case)

    check()


@pytest.mark.parametrize(
    "target",
    strategies.invalid_create_targets(),
    ids=lambda target: f"{target.kind}-{target.model}-{target.field}",
)
def test_a_target_breaks_only_its_own_field(target: strategies.InvalidTarget) -> None:
    requests = strategies.invalid_create_requests((target.kind,), None, target.model, target.field)

    @settings(max_examples=5, database=None)
    @given(requests)
    def check(case: strategies.InvalidCreate) -> None:
        assert (case.kind, case.param) == (target.kind, target.field)
        if target.model is not None:
            assert case.model == target.model
        _assert_answered(case)

    check()


def test_the_bundled_contract_offers_every_kind() -> None:
    assert strategies.invalid_create_kinds() == strategies.INVALID_CREATE_KINDS
    assert "span_violation" not in strategies.invalid_create_kinds(model="sora-2-preview")
    assert "enum_violation" not in strategies.invalid_create_kinds(model="sora-character")


@pytest.mark.parametrize(
    ("kind", "param"),
    [
        ("missing_field", {"model", "video_url", "prompt"}),
        ("unknown_model", {"model"}),
        ("span_violation", {"timestamps"}),
        ("bad_callback", {"callback_url"}),
        ("enum_violation", {"aspect_ratio", "duration"}),
        ("malformed_json", {None}),
        ("wrong_content_type", {None}),
    ],
)
def test_kinds_name_the_field_they_break(kind: str, param: set[str | None]) -> None:
    for expected in param:
        _find(strategies.invalid_create_requests((kind,)), lambda c, p=expected: c.param == p)


@pytest.mark.parametrize("kind", strategies.INVALID_CREATE_KINDS)
def test_every_invalid_kind_shrinks_to_a_readable_example(kind: str) -> None:
    case = _find(strategies.invalid_create_requests((kind,)), shrink=True)
    assert case.kind == kind
    assert len(case.body) < 120, case.body


def test_unknown_kinds_and_models_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown invalid create kinds"):
        strategies.invalid_create_requests(("nope",))
    with pytest.raises(ValueError, match="of the field 'prompt'"):
        strategies.invalid_create_requests(("span_violation",), field="prompt")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        strategies.valid_create_bodies(model="nope")
    with pytest.raises(ValueError, match="no model has a request field"):
        strategies.field_values("nope")


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


@given(strategies.malformed_task_ids())
def test_malformed_task_ids_break_the_id_parameter(task_id: str) -> None:
    tasks = CONTRACT.tasks
    assert not CONTRACT.parameter_validator(tasks.read, tasks.id_parameter).is_valid(task_id)
    assert not set(task_id) & set("/?#%")


def test_task_id_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="kinds must be among"):
        strategies.task_id_cases(("nope",))
    assert strategies.task_id_kinds() == ("malformed", "unknown")


@settings(max_examples=120)
@given(strategies.task_bodies())
def test_task_bodies_validate_against_the_spec(body: dict[str, Any]) -> None:
    request = Request.build("GET", f"/v1/tasks/{body['id']}", headers=auth())
    assert list(iter_response_errors(request, Response.json(200, body), CONTRACT)) == []
    tasks = CONTRACT.tasks
    model = tasks.models[body["model"]]
    assert model.completed is not None
    assert (set(model.completed.source) & set(body) != set()) == (body["status"] == "completed")
    assert tasks.failure_fields() <= set(body) or body["status"] != "failed"
    assert not tasks.failure_fields() & set(body) or body["status"] == "failed"
    assert TASK_ID.fullmatch(body["id"])
    assert str(body["created"]) in body["id"]


@pytest.mark.parametrize("status", strategies.STATUSES)
def test_task_bodies_in_every_state_with_and_without_optional_fields(status: str) -> None:
    known = set(CONTRACT.document["components"]["schemas"]["TaskResponse"]["properties"])
    bodies = strategies.task_bodies(status, model="sora-character")
    _find(bodies, lambda b: set(b) - known)  # unknown extra fields
    _find(bodies, lambda b: "video_duration" not in b["task_info"])
    _find(bodies, lambda b: "user_group" not in b["usage"])
    _find(bodies, lambda b: b["task_info"]["estimated_time"] != 150)  # values beyond the spec's
    for model in MODELS:
        _find(strategies.task_bodies(status), lambda b, m=model: b["model"] == m)
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


# -- any schema, any contract ----------------------------------------------------------------


@settings(max_examples=80)
@given(
    strategies.schema_values(
        {
            "type": "object",
            "required": ["n", "items"],
            "properties": {
                "n": {"type": "integer", "minimum": 3, "maximum": 7},
                "x": {"type": "number", "minimum": 0.5, "maximum": 1.5},
                "items": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 4,
                    "items": {"type": "boolean"},
                },
                "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
                "either": {"type": ["string", "null"], "maxLength": 3},
                "status": {"$ref": "#/components/schemas/TaskStatus"},
            },
        }
    )
)
def test_schema_values_keep_the_schema(value: dict[str, Any]) -> None:
    assert 3 <= value["n"] <= 7
    assert 2 <= len(value["items"]) <= 4
    assert all(isinstance(item, bool) for item in value["items"])
    assert "x" not in value or 0.5 <= value["x"] <= 1.5
    assert "code" not in value or re.fullmatch(r"[A-Z]{3}-[0-9]{2}", value["code"])
    assert value.get("either") is None or len(value["either"]) <= 3
    assert "status" not in value or value["status"] in strategies.STATUSES


@given(strategies.field_values("timestamps"))
def test_field_values_keep_the_field_rule(value: str) -> None:
    start, end = (float(part) for part in value.split(","))
    assert 0 < end - start <= 2


def test_a_made_up_model_is_drawn_from_its_own_schema(toy_contract: Contract) -> None:
    engine = Engine(contract=toy_contract, clock=VirtualClock(), seed=3)
    check = RequestCheck(toy_contract)

    @settings(max_examples=60, database=None)
    @given(strategies.valid_create_bodies(toy_contract, TOY_MODEL))
    def valid(body: dict[str, Any]) -> None:
        assert isinstance(check.check(body), CheckedBody), check.problem(body)
        assert 1 <= body["level"] <= 5
        assert 1 <= len(body["tags"]) <= 3
        assert _create(engine, json.dumps(body).encode()).status == 200

    @settings(max_examples=150, database=None)
    @given(strategies.invalid_create_requests(contract=toy_contract, model=TOY_MODEL))
    def invalid(case: strategies.InvalidCreate) -> None:
        response = _create(engine, case.body, case.content_type)
        error = response.json_body()["error"]
        assert (response.status, error.get("param")) == (case.status, case.param), case

    valid()
    invalid()
    assert strategies.invalid_create_kinds(toy_contract, TOY_MODEL) == (
        strategies.INVALID_CREATE_KINDS
    )
    for kind, field in [
        ("span_violation", "window"),
        ("bad_callback", "notify"),
        ("enum_violation", "mode"),
        ("pattern_violation", "tags"),
        ("bounds_violation", "level"),
        ("bounds_violation", "ratio"),
        ("wrong_type", "options"),
    ]:
        cases = strategies.invalid_create_requests((kind,), toy_contract, TOY_MODEL)
        _find(cases, lambda c, f=field: c.param == f)


def test_made_up_task_bodies_validate(toy_contract: Contract) -> None:
    model = toy_contract.tasks.models[TOY_MODEL]
    assert model.task_schema is not None
    validator = toy_contract.schema_validator(model.task_schema)

    @settings(max_examples=60, database=None)
    @given(strategies.task_bodies(contract=toy_contract, model=TOY_MODEL))
    def check(body: dict[str, Any]) -> None:
        assert body["model"] == TOY_MODEL
        assert validator.is_valid(body)

    check()
