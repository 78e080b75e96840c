"""Restarts on a state file: what a client saw before a stop (``kill -9`` or SIGTERM) never
moves backwards after ``sora-mock serve`` starts again on the same file.

Real processes on loopback, the clock sped up 50 times, so the default 150-second lifecycle
takes 3 real seconds: the server is stopped while tasks are half done. Bounded in count (a
dozen tasks) and in time (deadlines, no sleeps).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import CREATE_PATH, VALID_BODY, auth, start_serve

TASKS = 12
TOKENS = ("sk-restart-alpha-5f2c9e", "sk-restart-bravo-81d0aa", "sk-restart-charlie-3b7e41")
STATUS_ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
#: Longest a server may take to start or a wait may last, in real seconds.
DEADLINE = 30.0

#: A new connection for every request, so that every worker of a server takes part.
FRESH = httpx.Limits(max_keepalive_connections=0)

Seen = dict[str, tuple[str, int]]


def _serve(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    return start_serve("--quiet", "--speed", "50", "--state", str(state), *extra)


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    """Send ``sig``, wait for the process to end; its standard error."""
    process.send_signal(sig)
    _, errors = process.communicate(timeout=DEADLINE)
    return errors


def _poll_all(client: httpx.Client, owners: dict[str, str], seen: Seen) -> Seen:
    """Read every task once; check each answer against the last one seen, then keep it."""
    for task_id, token in owners.items():
        response = client.get(f"/v1/tasks/{task_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        body = response.json()
        now = (body["status"], body["progress"])
        if task_id in seen:
            before = seen[task_id]
            assert STATUS_ORDER[now[0]] >= STATUS_ORDER[before[0]], (task_id, before, now)
            assert now[1] >= before[1], (task_id, before, now)
        seen[task_id] = now
    return seen


def _half_done(seen: Seen) -> bool:
    """Some tasks are processing with progress above 0 (and so, mid-way)."""
    return any(status == "processing" and progress > 0 for status, progress in seen.values())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGKILL, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2), (signal.SIGKILL, 2)],
    ids=["kill-9", "sigterm", "sigterm-2-workers", "kill-9-2-workers"],
)
def test_a_restart_never_shows_an_earlier_status_or_lower_progress(
    tmp_path: Path, sig: signal.Signals, workers: int
) -> None:
    state = tmp_path / "state.db"
    process, url = _serve(state, "--workers", str(workers))
    owners: dict[str, str] = {}
    seen: Seen = {}
    try:
        with httpx.Client(base_url=url, timeout=10, limits=FRESH) as client:
            for n in range(TASKS):
                token = TOKENS[n % len(TOKENS)]
                created = client.post(CREATE_PATH, json=VALID_BODY, headers=auth(token))
                assert created.status_code == 200, created.text
                owners[created.json()["id"]] = token
            deadline = time.monotonic() + DEADLINE
            while not _half_done(_poll_all(client, owners, seen)):
                assert time.monotonic() < deadline, seen
    finally:
        errors = _stop(process, sig)
    assert "Traceback" not in errors, errors
    assert any(status != "completed" for status, _ in seen.values()), seen

    process, url = _serve(state, "--workers", str(workers))
    try:
        with httpx.Client(base_url=url, timeout=10, limits=FRESH) as client:
            _poll_all(client, owners, seen)  # the first reads after the restart
            deadline = time.monotonic() + DEADLINE
            while any(
                status != "completed" for status, _ in _poll_all(client, owners, seen).values()
            ):
                assert time.monotonic() < deadline, seen
    finally:
        errors = _stop(process, signal.SIGTERM)
    assert "Traceback" not in errors, errors

    with sqlite3.connect(state) as db:
        (check,) = db.execute("PRAGMA integrity_check").fetchone()
    db.close()
    assert check == "ok"
    on_disk = b"".join(
        path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith(state.name)
    )
    assert on_disk
    for token in TOKENS:
        assert token.encode() not in on_disk, token
