"""A settings file that is empty or has a mistyped key is refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_mock.engine import MockConfig
from sora_mock.errors import ConfigError


def _refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        MockConfig.load(path)
    return caught.value.describe().strip()


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    message = _refusal(tmp_path, text)
    assert str(tmp_path / "settings.yaml") in message
    assert "the file is empty" in message


def test_a_mistyped_top_level_key_names_the_closest_known_one(tmp_path: Path) -> None:
    message = _refusal(tmp_path, "clock:\n  speed: 2\nscenarioz: []\n")
    assert ":3:" in message  # the line of the unknown key
    assert "scenarioz: unknown key (did you mean 'scenarios'?)" in message


def test_a_mistyped_nested_key_names_the_closest_known_one(tmp_path: Path) -> None:
    message = _refusal(tmp_path, "clock:\n  sped: 2\n")
    assert "clock/sped: unknown key (did you mean 'speed'?)" in message


def test_a_key_like_no_other_lists_the_known_keys(tmp_path: Path) -> None:
    message = _refusal(tmp_path, "zzzz: 1\n")
    assert "zzzz: unknown key (known keys: admin, auth," in message


def test_overrides_with_a_mistyped_key_are_refused_the_same_way() -> None:
    with pytest.raises(ConfigError, match=r"limits/journal_sise: unknown key \(did you mean"):
        MockConfig.defaults().with_overrides({"limits": {"journal_sise": 5}})
