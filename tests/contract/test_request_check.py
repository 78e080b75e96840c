"""One check of a create body: its model, its model's schema and the rules beyond it."""

from __future__ import annotations

from typing import Any

import pytest

from sora_mock.contract import BodyProblem, CheckedBody, Contract, RequestCheck

CHECK = RequestCheck(Contract.bundled())
CHARACTER = {"model": "sora-character", "video_url": "https://example.com/video.mp4"}
PREVIEW = {"model": "sora-2-preview", "prompt": "A cat playing piano"}


def _problem(body: dict[str, Any], allow_loopback: bool = False) -> BodyProblem:
    found = CHECK.check(body, allow_loopback=allow_loopback)
    assert isinstance(found, BodyProblem), body
    return found


@pytest.mark.parametrize("body", [CHARACTER, PREVIEW, {**CHARACTER, "timestamps": "0.5, 2.5"}])
def test_a_good_body_gives_its_model(body: dict[str, Any]) -> None:
    checked = CHECK.check(body)
    assert isinstance(checked, CheckedBody)
    assert checked.model.name == body["model"]
    assert CHECK.problem(body) is None


@pytest.mark.parametrize("model", ["sora-2", "", 7, None])
def test_an_unknown_model_names_the_model_field(model: Any) -> None:
    problem = _problem({**CHARACTER, "model": model})
    assert problem.param == "model"
    assert problem.message.startswith("Invalid request parameters: model: ")
    assert "not one of the models mocked ('sora-character', 'sora-2-preview')" in problem.message


def test_a_missing_model_says_it_is_required() -> None:
    problem = _problem({"video_url": "https://example.com/video.mp4"})
    assert problem.param == "model"
    assert "expected a required field, got nothing" in problem.message


@pytest.mark.parametrize(
    ("body", "param"),
    [({"model": "sora-character"}, "video_url"), ({"model": "sora-2-preview"}, "prompt")],
)
def test_a_missing_field_is_named(body: dict[str, Any], param: str) -> None:
    problem = _problem(body)
    assert problem.param == param
    assert problem.message.startswith(f"Invalid request parameters: {param}: ")
    assert "required" in problem.message


@pytest.mark.parametrize(
    ("timestamps", "message"),
    [
        ("1,4", "Invalid timestamps parameter: the span 3s exceeds 2 seconds"),
        ("3,1", "Invalid timestamps parameter: end (1) must be after start"),
        ("a,b", "Invalid timestamps parameter: expected 'start,end' in seconds, got 'a,b'"),
    ],
)
def test_a_bad_span_uses_the_field_message(timestamps: str, message: str) -> None:
    problem = _problem({**CHARACTER, "timestamps": timestamps})
    assert (problem.param, problem.message) == ("timestamps", message)


def test_the_first_problem_in_documented_field_order_is_reported() -> None:
    problem = _problem({"model": "sora-character", "video_url": 3, "timestamps": 4})
    assert problem.param == "video_url"
    problem = _problem({**PREVIEW, "prompt": "", "duration": 5})
    assert problem.param == "prompt"


def test_a_field_message_answers_an_enum_error_of_its_field() -> None:
    problem = _problem({**PREVIEW, "duration": 5})
    assert problem.param == "duration"
    assert problem.message.startswith("Invalid duration parameter")


def test_a_pattern_with_a_field_message_uses_it() -> None:
    problem = _problem({**CHARACTER, "video_url": "https://example.com/video.avi"})
    assert problem.param == "video_url"
    assert problem.message.startswith("video_url must point to a .mp4, .mov or .webm file")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "callback_url must use HTTPS"),
        ("https://127.0.0.1/hook", "callback_url must not point to a private or loopback address"),
        ("https://10.1.2.3/hook", "callback_url must not point to a private or loopback address"),
        ("https://localhost/hook", "callback_url must not point to a private or loopback address"),
    ],
)
@pytest.mark.parametrize("base", [CHARACTER, PREVIEW])
def test_a_bad_callback_is_refused(base: dict[str, Any], url: str, message: str) -> None:
    problem = _problem({**base, "callback_url": url})
    assert (problem.param, problem.message) == ("callback_url", message)


def test_a_loopback_callback_passes_when_allowed() -> None:
    body = {**CHARACTER, "callback_url": "http://127.0.0.1:8080/hook"}
    assert isinstance(CHECK.check(body, allow_loopback=True), CheckedBody)
    assert CHECK.problem(body) is not None


def test_a_port_besides_443_passes_when_allowed() -> None:
    body = {**PREVIEW, "callback_url": "https://example.com:8443/hook"}
    assert _problem(body).message == "callback_url must use port 443, not 8443"
    assert isinstance(CHECK.check(body, allow_ports=[8443]), CheckedBody)
    assert CHECK.problem(body, allow_ports=(8443,)) is None
