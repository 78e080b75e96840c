"""A task store in a SQLite file: tasks survive a restart and are shared by worker processes.

Every acknowledged task is committed before its response is written (WAL journal), so
killing the server loses none. Each process keeps its own connection; SQLite serialises
writers across processes. What is *not* shared between workers: rate-limit windows, spent
credits, burst counts, the journal and clock adjustments (each worker keeps its own).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sora_mock.engine.lifecycle import Failure, Lifecycle
from sora_mock.engine.reported import Reported
from sora_mock.engine.store.task import Task

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    ended_at REAL,
    task TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value NOT NULL
);
"""


class SqliteTaskStore:
    """Tasks in a SQLite file (see the module docstring for what is shared)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=10, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._link_secret = self._secret("link_secret")

    def add(self, task: Task) -> bool:
        """Store and commit a new task; False, storing nothing, when its id is taken already
        (by this process or another sharing the file)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO tasks (id, expires_at, polls, ended_at, task)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.expires_at(),
                    task.polls,
                    task.ended_at,
                    json.dumps(_task_to_dict(task)),
                ),
            )
        return cursor.rowcount == 1

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT polls, ended_at, task FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        if row is None:
            return None
        return _task_from_row(*row)

    def save(self, task: Task) -> None:
        """Commit the task's polls and end time."""
        with self._lock:
            self._db.execute(
                "UPDATE tasks SET polls = ?, ended_at = ?, expires_at = ? WHERE id = ?",
                (task.polls, task.ended_at, task.expires_at(), task.id),
            )

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()
        return int(count)

    def __iter__(self) -> Iterator[Task]:
        with self._lock:
            rows = self._db.execute(
                "SELECT polls, ended_at, task FROM tasks ORDER BY rowid"
            ).fetchall()
        return iter([_task_from_row(*row) for row in rows])

    def purge(self, now: float, limit: int | None = None) -> int:
        """Delete tasks whose stored expiry has passed (at most ``limit``)."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM tasks WHERE id IN "
                "(SELECT id FROM tasks WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (now, -1 if limit is None else limit),
            )
        return cursor.rowcount

    def clear(self) -> None:
        """Delete every task."""
        with self._lock:
            self._db.execute("DELETE FROM tasks")

    def link_secret(self) -> bytes:
        """The secret that signs file links: made at the file's first open, kept in it."""
        return self._link_secret

    def _secret(self, key: str) -> bytes:
        """The 32 random bytes kept under ``key`` in the meta table, drawn if none are
        (the first process to store them wins; every other reads what it stored)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                (key, secrets.token_bytes(32)),
            )
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return bytes(value)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def _task_to_dict(task: Task) -> dict[str, Any]:
    """What a task was created with, as JSON-ready data (its read state has columns)."""
    data = {f.name: getattr(task, f.name) for f in dataclasses.fields(task)}
    del data["polls"], data["ended_at"]
    data["plan"] = dataclasses.asdict(task.plan)
    data["reported"] = {"values": task.reported.values, "retention": task.reported.retention}
    return data


def _task_from_row(polls: int, ended_at: float | None, stored: str) -> Task:
    data = json.loads(stored)
    plan = dict(data["plan"])
    plan["failure"] = Failure(**plan["failure"])
    plan["progress_curve"] = tuple(plan["progress_curve"])
    return Task(
        **{**data, "plan": Lifecycle(**plan), "reported": Reported(**data["reported"])},
        polls=polls,
        ended_at=ended_at,
    )
