from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sora_mock.contract import Contract, json_schema, spec_path
from sora_mock.errors import SpecError

# The documented errors of both operations (facts sheet, sections 1 and 2).
DOCUMENTED = {
    ("createCharacterGeneration", 400): ("invalid_request", "invalid_request_error"),
    ("createCharacterGeneration", 401): ("unauthorized", "authentication_error"),
    ("createCharacterGeneration", 402): ("insufficient_quota", "insufficient_quota"),
    ("createCharacterGeneration", 403): ("model_access_denied", "invalid_request_error"),
    ("createCharacterGeneration", 429): ("rate_limit_exceeded", "rate_limit_error"),
    ("createCharacterGeneration", 500): ("internal_error", "api_error"),
    ("getTaskDetail", 400): ("invalid_task_id", "invalid_request_error"),
    ("getTaskDetail", 401): ("unauthorized", "authentication_error"),
    ("getTaskDetail", 402): ("quota_exceeded", "insufficient_quota"),
    ("getTaskDetail", 403): ("permission_denied", "invalid_request_error"),
    ("getTaskDetail", 404): ("task_not_found", "invalid_request_error"),
    ("getTaskDetail", 429): ("rate_limit_exceeded", "evo_api_error"),
    ("getTaskDetail", 500): ("internal_error", "api_error"),
}

FAILURE_CODES = {
    "content_policy_violation",
    "invalid_parameters",
    "image_processing_error",
    "image_dimension_mismatch",
    "request_cancelled",
    "generation_failed_no_content",
    "service_error",
    "generation_timeout",
    "resource_exhausted",
    "quota_exceeded",
    "service_unavailable",
    "resource_not_found",
    "unknown_error",
}


def test_bundled_spec_loads_with_both_operations(contract: Contract) -> None:
    assert {op.operation_id for op in contract.operations} == {
        "createCharacterGeneration",
        "getTaskDetail",
    }
    assert contract.document["openapi"].startswith("3.1")


def test_every_documented_error_is_in_the_spec(contract: Contract) -> None:
    for (operation_id, status), (code, kind) in DOCUMENTED.items():
        error = contract.operation(operation_id).error(status)
        assert (error.code, error.type) == (code, kind), (operation_id, status)


def test_every_documented_failure_code_is_in_the_spec(contract: Contract) -> None:
    assert set(contract.enum("TaskFailureCode")) >= FAILURE_CODES


def test_every_model_fails_with_documented_codes_the_config_can_name(contract: Contract) -> None:
    pattern = re.compile(json_schema("config")["$defs"]["failure_code"]["pattern"])
    for model in contract.tasks.models.values():
        assert set(model.failure_codes) >= FAILURE_CODES, model.name
        assert model.failure_codes == contract.enum("TaskFailureCode")
        assert all(pattern.fullmatch(code) for code in model.failure_codes), model.name
        assert model.lifecycle["failure"]["code"] in model.failure_codes


def test_our_choices_are_written_into_the_spec() -> None:
    text = spec_path().read_text()
    for choice in (
        "timestamps",
        "result_data",
        "progress never goes down",
        "Retry-After",
        "callback_url",
        "no cancel endpoint",
        "24 hours",
    ):
        assert choice in text, choice
    assert text.count("**Our choice") >= 8


def test_routing_separates_404_and_405(contract: Contract) -> None:
    assert contract.match("GET", "/v1/tasks/task-unified-1-abcdefgh").found
    assert contract.match("DELETE", "/v1/tasks/x").allowed == ("GET",)
    assert contract.match("GET", "/v1/videos/generations").allowed == ("POST",)
    nothing = contract.match("GET", "/v2/nothing")
    assert not nothing.found
    assert nothing.allowed == ()


def test_routing_takes_the_method_in_any_case(contract: Contract) -> None:
    assert contract.match("post", "/v1/videos/generations").found
    assert contract.match("get", "/v1/tasks/task-unified-1-abcdefgh").found
    assert contract.match("delete", "/v1/tasks/x").allowed == ("GET",)


def _broken_copy(tmp_path: Path, mutate: object) -> Path:
    data = yaml.safe_load(spec_path().read_text())
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_spec_with_a_bad_field_is_refused_naming_file_and_place(tmp_path: Path) -> None:
    def mutate(data: dict) -> None:  # type: ignore[type-arg]
        data["paths"]["/v1/tasks/{task_id}"]["get"]["parameters"][0]["in"] = "body"

    path = _broken_copy(tmp_path, mutate)
    with pytest.raises(SpecError) as caught:
        Contract.from_path(path)
    message = str(caught.value)
    assert str(path) in message
    assert "paths" in message
    assert caught.value.line is not None


def test_a_spec_without_info_is_refused(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda data: data.pop("info"))
    with pytest.raises(SpecError, match="info"):
        Contract.from_path(path)


def test_unparsable_yaml_is_refused_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("openapi: 3.1.0\ninfo: [unclosed\n")
    with pytest.raises(SpecError) as caught:
        Contract.from_path(path)
    assert caught.value.source == str(path)
    assert caught.value.line is not None
    assert "invalid YAML" in str(caught.value)


def test_a_missing_spec_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        Contract.from_path(tmp_path / "absent.yaml")
