"""contract_tests/ pointed at a live server with --sora-base-url: passes, and fails."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sora_mock.server import BackgroundServer
from tests.mutants import LeaksTasks

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sora_mock", "serve", "--port", "0", "--speed", "5000", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split(" on ")[1].split(" ")[0]
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _suite(base_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "contract_tests",
            "-q",
            "-p",
            "no:cacheprovider",
            "--sora-base-url",
            base_url,
            "--sora-contract-token",
            "sk-suite-live-1",
            "--sora-contract-other-token",
            "sk-suite-live-2",
            "--sora-contract-poll-interval",
            "0.05",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_the_suite_passes_against_a_live_mock(served: str) -> None:
    result = _suite(served)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout


@pytest.mark.slow
def test_the_suite_fails_a_broken_server_naming_the_rule() -> None:
    with BackgroundServer(LeaksTasks()) as server:
        result = _suite(server.base_url)
    assert result.returncode == 1
    assert "FAILED contract_tests/test_server_contract.py::test_rule_holds[token_isolation]" in (
        result.stdout
    )
    assert "another token could read the task" in result.stdout
