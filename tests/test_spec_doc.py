"""docs/spec.md's "Add a model with one YAML file" works as written: its YAML file loads
beside the bundled set, and its in-process example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sora_mock.contract import Contract

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec.md"


def _section_blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Add a model with one YAML file", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


@pytest.fixture
def storyboard(tmp_path: Path) -> Path:
    (block,) = _section_blocks("yaml")
    path = tmp_path / "storyboard.yaml"
    path.write_text(block, encoding="utf-8")
    return path


def test_the_documented_model_file_loads_beside_the_bundled_set(storyboard: Path) -> None:
    contract = Contract.load(["bundled", storyboard])
    assert list(contract.tasks.models) == ["sora-character", "sora-2-preview", "storyboard-1"]


def test_the_documented_in_process_example_runs(storyboard: Path) -> None:
    (example,) = _section_blocks("python")
    done = subprocess.run(
        [sys.executable, "-c", example],
        cwd=storyboard.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(DOC.parent.parent)},
    )
    assert done.returncode == 0, done.stderr
