"""Start-up: ``import sora_mock`` and ``sora-mock serve`` until healthy, against ``python -c pass``.

Every command runs as a fresh process, alternating with the baseline, and the medians of
wall-clock times are compared.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH, log, median, ratio


def _run_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=BENCH.parent)
    return time.perf_counter() - start


def serve_until_healthy(python: Path) -> float:
    """Seconds from starting ``sora-mock serve`` to its first 200 on ``/__mock/health``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(python.parent / "sora-mock"), "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        host, port = line.split("http://")[1].split()[0].rsplit(":", 1)
        request = f"GET /__mock/health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        while True:
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(rounds: int = 7) -> dict[str, Any]:
    """Medians over ``rounds`` alternating runs of each command."""
    python = Path(sys.executable)
    commands = {
        "python_pass": [str(python), "-c", "pass"],
        "import_sora_mock": [str(python), "-c", "import sora_mock"],
        "import_engine": [str(python), "-c", "from sora_mock import Engine"],
    }
    samples: dict[str, list[float]] = {name: [] for name in [*commands, "serve_until_healthy"]}
    log("start-up: imports and serve until healthy")
    for _ in range(rounds):
        for name, command in commands.items():
            samples[name].append(_run_seconds(command))
        samples["serve_until_healthy"].append(serve_until_healthy(python))
    result: dict[str, Any] = {
        name: {"median_ms": round(median(s) * 1000, 1), "runs": len(s)}
        for name, s in samples.items()
    }
    base = median(samples["python_pass"])
    result["ratios_vs_python_pass"] = {
        name: ratio(median(s), base) for name, s in samples.items() if name != "python_pass"
    }
    result["import_sora_mock_extra_ms"] = round(
        (median(samples["import_sora_mock"]) - base) * 1000, 1
    )
    return result
