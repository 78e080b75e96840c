"""The wheel as a package index shows it: the README's links work there too."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/sora-mock/sora-mock/blob/main/"
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(folder),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = folder.glob("sora_mock-*.whl")
    return built


def description(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    body = metadata.get_payload()
    assert isinstance(body, str)
    return body


@pytest.mark.slow
def test_every_readme_link_is_absolute_on_the_index_page(wheel: Path) -> None:
    links = LINK.findall(description(wheel))
    assert links, "the README has no links"
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert relative == []


@pytest.mark.slow
def test_each_repository_link_names_a_file_of_the_repository(wheel: Path) -> None:
    ours = [link for link in LINK.findall(description(wheel)) if link.startswith(REPOSITORY)]
    assert ours
    missing = [link for link in ours if not (ROOT / link.removeprefix(REPOSITORY)).exists()]
    assert missing == []
