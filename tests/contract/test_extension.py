"""A wrong ``x-sora-mock`` block is refused with the file, line and column of the bad key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sora_mock.contract import Contract, spec_path
from sora_mock.contract.extension import extension_problems
from sora_mock.errors import SpecError


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        ("role: create-task", "role: make-task", "role must be one of"),
        ("outcome: completed", "outcome: maybe", "'maybe' is not one of"),
        ("file: {type: image/png,", "file: {type: text/plain,", "'text/plain' is not one of"),
        ("model-field: model", "model-field: ''", "should be non-empty"),
    ],
)
def test_a_wrong_extension_is_refused_at_its_place(
    tmp_path: Path, before: str, after: str, why: str
) -> None:
    text = spec_path().read_text()
    assert text.count(before) >= 1, before
    broken = text.replace(before, after, 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    with pytest.raises(SpecError) as caught:
        Contract.load([path])
    message = str(caught.value)
    line = _line_of(broken, after)
    found = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): ", message)
    assert found is not None, message
    assert int(found.group(1)) == line, message
    assert caught.value.line == int(found.group(1))
    assert caught.value.column is not None
    assert "x-sora-mock" in message
    assert why in message


def test_an_extension_on_a_property_is_checked_as_a_field_rule() -> None:
    document = {
        "components": {
            "schemas": {
                "Request": {
                    "properties": {"when": {"type": "string", "x-sora-mock": {"span": {"max": -1}}}}
                }
            }
        }
    }
    [problem] = extension_problems(document)
    assert problem.path[:5] == ("components", "schemas", "Request", "properties", "when")
    assert problem.path[5] == "x-sora-mock"


def test_the_bundled_documents_have_no_extension_problem() -> None:
    assert list(extension_problems(Contract.bundled().document)) == []
