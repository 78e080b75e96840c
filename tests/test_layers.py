"""What import-linter cannot see: the contract and the engine never sleep or wait.

``make lint`` checks the layers and forbids the I/O modules (asyncio, socket, httpx, ...)
below the doors; a call to ``sleep`` comes from ``time``, which the engine may import for
other reasons, so it is looked for here by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sora_mock"


@pytest.mark.parametrize("layer", ["contract", "engine"])
def test_the_pure_layers_never_sleep(layer: str) -> None:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "sleep") or (
                isinstance(node, ast.Name) and node.id == "sleep"
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
