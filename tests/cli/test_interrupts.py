"""The command ends quietly when its reader goes away or the user presses Ctrl+C twice."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest

from tests.helpers import COMMAND, start_serve


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.05, 0.3])
def test_a_second_ctrl_c_during_shutdown_prints_no_traceback(gap: float) -> None:
    process, url = start_serve()
    host, port = url.removeprefix("http://").split(":")
    # A connection with a half-sent head keeps the graceful shutdown waiting.
    with socket.create_connection((host, int(port))) as held:
        held.sendall(b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n")
        process.send_signal(signal.SIGINT)
        time.sleep(gap)  # the user's second keypress, early or late in the shutdown
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert "Traceback" not in errors, errors
    assert "CancelledError" not in errors, errors
    assert process.returncode in (0, 130, -signal.SIGINT)


@pytest.mark.parametrize(
    "args",
    [
        ["scenarios", "list"],
        ["scenarios", "example"],
        ["serve", "--help"],
        ["conform", "--list"],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    process = subprocess.Popen(
        [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # like `| head` that has read enough
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) in (0, 141), errors  # 0: argparse drops a failed write
    assert errors == ""
