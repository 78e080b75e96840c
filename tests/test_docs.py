"""The examples in the docs are the files the suite runs, and run as a user would run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "tests" / "examples" / "test_readme_example.py"


def test_the_readme_example_is_the_tested_file() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(
        r"<!-- the example below is tests/examples/test_readme_example.py[^>]*-->\n"
        r"```python\n(.*?)```",
        readme,
        re.DOTALL,
    )
    assert found, "README.md lost its pytest example"
    assert found.group(1) == EXAMPLE.read_text()


def test_the_readme_example_runs_on_its_own(pytester: pytest.Pytester) -> None:
    # Copied into an empty directory: no conftest, nothing from this repository but the plugin.
    pytester.makepyfile(test_character=EXAMPLE.read_text())
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
