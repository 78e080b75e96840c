"""The task API read from the extension: what it knows, and what it refuses."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sora_mock.contract import Contract, spec_path
from sora_mock.contract.task_api import TaskApiError
from sora_mock.errors import SpecError

Mutation = Callable[[dict[str, Any]], None]
CREATE = ("/v1/videos/generations", "post")
READ = ("/v1/tasks/{task_id}", "get")


def _document() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(spec_path().read_text())
    return data


def _operation(document: dict[str, Any], place: tuple[str, str]) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][place[0]][place[1]]
    return operation


def _request_schema(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    return next(s for s in schemas.values() if "x-sora-mock" in s and "properties" in s)


def test_the_bundled_task_api(contract: Contract) -> None:
    tasks = contract.tasks
    assert tasks.create is contract.operation_at(*CREATE)
    assert tasks.read is contract.operation_at(*READ)
    assert (tasks.model_field, tasks.id_parameter) == ("model", "task_id")
    assert tasks.id_prefix == "task-unified-"
    assert set(tasks.models) == {"sora-character", "sora-2-preview"}
    assert tasks.field_path("status") == ("status",)
    assert tasks.field_path("can_cancel") == ("task_info", "can_cancel")
    assert tasks.result_fields() == {"result_data", "results"}
    assert tasks.failure_fields() == {"error"}
    character = tasks.models["sora-character"]
    assert character.rules["timestamps"].span_max == 2
    assert character.callback_field == "callback_url"
    assert character.generated == {"character_name": "chr_{letters:8}"}
    assert character.files["profile_picture_url"].media_type == "image/png"
    assert character.cost_of(character.values) == pytest.approx(0.1)
    assert character.example is not None
    assert character.example["model"] == "sora-character"
    assert "content_policy_violation" in character.failure_codes
    preview = tasks.models["sora-2-preview"]
    assert [file.media_type for file in preview.files.values()] == ["video/mp4"]
    assert preview.field_order("model") < preview.field_order("prompt")
    assert preview.field_order("unknown") == len(preview.fields)


def _template_with_unknown_value(document: dict[str, Any]) -> None:
    _operation(document, READ)["x-sora-mock"]["task"]["note"] = "{nope}"


def _no_read_operation(document: dict[str, Any]) -> None:
    del _operation(document, READ)["x-sora-mock"]


def _model_without_enum(document: dict[str, Any]) -> None:
    del _request_schema(document)["properties"]["model"]["enum"]


def _two_create_operations(document: dict[str, Any]) -> None:
    read = _operation(document, READ)
    read["x-sora-mock"] = copy.deepcopy(_operation(document, CREATE)["x-sora-mock"])


def _missing_id_parameter(document: dict[str, Any]) -> None:
    _operation(document, READ)["x-sora-mock"]["id-parameter"] = "id"


def _unknown_cost_value(document: dict[str, Any]) -> None:
    _request_schema(document)["x-sora-mock"]["cost"] = "{nothing}"


def _built_in_value(document: dict[str, Any]) -> None:
    _request_schema(document)["x-sora-mock"]["values"]["status"] = "done"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_template_with_unknown_value, "the task template uses 'nope'"),
        (_no_read_operation, "no operation has x-sora-mock role 'read-task'"),
        (_model_without_enum, "names no model: give 'model' an enum"),
        (_two_create_operations, "2 operations have x-sora-mock role 'create-task'"),
        (_missing_id_parameter, "has no path parameter 'id'"),
        (_unknown_cost_value, "no literal value 'nothing'"),
        (_built_in_value, "'status' is a built-in value"),
    ],
)
def test_an_unusable_task_api_is_refused(tmp_path: Path, mutate: Mutation, message: str) -> None:
    document = _document()
    mutate(document)
    with pytest.raises(TaskApiError, match=message) as caught:
        Contract.from_dict(document).tasks  # noqa: B018
    assert caught.value.problem.path
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SpecError, match=message) as refused:
        Contract.load([path])
    # A document holding both task operations is checked alone, where problems have a line.
    place = "" if mutate in (_no_read_operation, _two_create_operations) else ":[0-9]+:[0-9]+"
    assert re.match(rf"{re.escape(str(path))}{place}: ", str(refused.value)), refused.value


def test_a_document_without_the_extension_loads_but_has_no_task_api(tmp_path: Path) -> None:
    document = _document()
    for place in (CREATE, READ):
        del _operation(document, place)["x-sora-mock"]
    contract = Contract.from_dict(document)
    assert contract.operation_at(*READ).operation_id == "getTaskDetail"
    with pytest.raises(TaskApiError, match="role 'create-task'"):
        contract.tasks  # noqa: B018
