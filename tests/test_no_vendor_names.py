"""Nothing below the contract names the vendor's API: the spec drives the mock.

The names are read from the bundled documents (operation ids, model names, request and
result fields, the task id prefix), so a name a later spec adds is checked too. The model
field and the callback field name the mock's own concepts (which model, where callbacks
go) and may appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sora_mock.contract import Contract

PACKAGE = Path(__file__).resolve().parent.parent / "sora_mock"
#: Where no vendor name may be written: the engine (store and rendering included) and
#: the rules of the checker and of the conformance harness.
GUARDED = (
    *sorted((PACKAGE / "engine").rglob("*.py")),
    PACKAGE / "checker" / "rules.py",
    PACKAGE / "conformance" / "rules.py",
)


def _keys(template: Any) -> Iterator[str]:
    if isinstance(template, Mapping):
        for key, value in template.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(template, list):
        for item in template:
            yield from _keys(item)


def vendor_names(contract: Contract) -> set[str]:
    """The names of the vendor's API that the bundled contract documents."""
    tasks = contract.tasks
    names = {tasks.create.operation_id, tasks.read.operation_id, tasks.id_prefix}
    own = {tasks.model_field}
    for model in tasks.models.values():
        names.add(model.name)
        names.update(model.fields)
        names.update(model.values, model.generated, model.files)
        if model.callback_field:
            own.add(model.callback_field)
        if model.completed is not None:
            names.update(_keys(model.completed.source))
    for raw in contract.document["paths"].values():
        for operation in raw.values():
            if isinstance(operation, Mapping) and "operationId" in operation:
                names.add(operation["operationId"])
    return names - own


def test_the_vendor_names_are_read_from_the_bundled_spec() -> None:
    names = vendor_names(Contract.bundled())
    expected = {"createCharacterGeneration", "getTaskDetail", "sora-character", "sora-2-preview"}
    assert expected | {"video_url", "timestamps", "character_name", "task-unified-"} <= names
    assert {"prompt", "results", "result_data", "profile_picture_url"} <= names
    assert "model" not in names


@pytest.mark.parametrize("path", GUARDED, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_vendor_name_is_written_below_the_contract(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = sorted(
        name
        for name in vendor_names(Contract.bundled())
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
    )
    assert not found, f"{path.relative_to(PACKAGE)} names {', '.join(found)}"
