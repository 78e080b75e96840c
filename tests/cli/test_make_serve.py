"""``make serve`` takes the port as ``PORT=`` and any other serve option in ``ARGS=``."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from sora_mock.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_passes_port_and_args_to_the_command() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "serve", "PORT=9", "ARGS=--seed 3 --speed 7"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in dry_run.stdout.splitlines() if "sora-mock serve" in line]
    assert len(lines) == 1, dry_run.stdout
    words = shlex.split(lines[0])
    assert words[0].endswith("/sora-mock")
    assert words[1:] == [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "9",
        "--seed",
        "3",
        "--speed",
        "7",
    ]
    args = build_parser().parse_args(words[1:])
    assert (args.port, args.seed, args.speed) == (9, 3, 7.0)
