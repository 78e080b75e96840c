"""Task templates: placeholders replaced by values of any JSON type, or formatted in."""

from __future__ import annotations

import pytest

from sora_mock.contract import Template


def test_a_whole_placeholder_takes_the_value_of_any_type() -> None:
    template = Template.compile({"n": "{n}", "items": ["{items}"], "flag": "{flag}", "x": 1.5})
    values = {"n": 3, "items": {"a": [1]}, "flag": None}
    assert template.render(values) == {"n": 3, "items": [{"a": [1]}], "flag": None, "x": 1.5}
    assert template.names == {"n", "items", "flag"}


def test_a_placeholder_inside_text_is_formatted_in() -> None:
    template = Template.compile({"note": "made {id} at {created}", "plain": "no {{braces}}"})
    rendered = template.render({"id": "t-1", "created": 7})
    assert rendered == {"note": "made t-1 at 7", "plain": "no {braces}"}
    assert template.names == {"id", "created"}


def test_every_render_builds_new_containers() -> None:
    template = Template.compile({"list": [1, {"deep": "{v}"}]})
    first = template.render({"v": 1})
    first["list"].append(2)
    first["list"][1]["deep"] = 9
    assert template.render({"v": 1}) == {"list": [1, {"deep": 1}]}


def test_paths_say_where_a_value_lands() -> None:
    template = Template.compile({"a": {"b": "{v}"}, "c": ["x", "{v}"], "d": "text {v}"})
    assert template.paths("v") == [("a", "b"), ("c", 1)]
    assert template.paths("w") == []


@pytest.mark.parametrize("text", ["{a.b}", "{0}", "{a[1]}", "{-x}"])
def test_a_placeholder_that_is_no_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a value name"):
        Template.compile({"field": f"see {text}"})


def test_a_missing_value_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        Template.compile({"a": "{absent}"}).render({})
