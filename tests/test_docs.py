"""The examples in the docs are the files the suite runs, and run as a user would run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "tests" / "examples" / "test_readme_example.py"
EXAMPLES = [
    ROOT / "tests" / "examples" / f"test_readme_example_{lib}.py" for lib in ("requests", "aiohttp")
]


@pytest.mark.parametrize("example", [EXAMPLE, *EXAMPLES], ids=lambda path: path.stem)
def test_the_readme_excerpts_are_from_the_tested_files(example: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    name = example.relative_to(ROOT).as_posix()
    found = re.search(
        rf"<!-- excerpt of {re.escape(name)}[^>]*-->\n```python\n(.*?)```", readme, re.DOTALL
    )
    assert found, f"README.md lost its excerpt of {name}"
    assert found.group(1) in example.read_text()
    assert f"]({name})" in readme, f"README.md does not link the whole file {name}"


@pytest.mark.parametrize("example", [EXAMPLE, *EXAMPLES])
def test_the_readme_examples_run_on_their_own(pytester: pytest.Pytester, example: Path) -> None:
    # Copied into an empty directory: no conftest, nothing from this repository but the plugin.
    pytester.makepyfile(test_character=example.read_text())
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
