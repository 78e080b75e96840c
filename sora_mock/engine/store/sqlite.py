"""A task store in a SQLite file: tasks survive a restart and are shared by worker processes.

Every acknowledged task is committed before its response is written (WAL journal), so
killing the server loses none. Each process keeps its own connection; SQLite serialises
writers across processes. What is *not* shared between workers: rate-limit windows, spent
credits, burst counts and the journal (each worker keeps its own).

Besides the tasks, the file's ``meta`` table keeps:

- ``clock``: the latest mock time any engine on the file has answered at (the largest any
  worker wrote), committed before the answer is sent; a restarted engine continues from it.
- ``token_secret``: the key of the HMAC-SHA256 under which tasks name their owner. The file
  holds no bearer token, only these keyed hashes; a file written before them has its tokens
  hashed when it is opened.
- ``link_secret``: what file links are signed with (:meth:`SqliteTaskStore.link_secret`).

The secrets are drawn at the file's first open (the first process to store one wins) and
live as long as the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
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
#: How a stored owner starts: the keyed hash's name, then its hex digest.
HASH_PREFIX = "hmac-sha256:"
#: The meta row that says the tasks' tokens are keyed hashes (absent in older files).
_HASHED = "tokens_hashed"
#: Most tokens whose keyed hash a store remembers (clients reuse their token).
_KEYS_KEPT = 4096
#: Commits after which the log is copied back into the file (by the checkpoint thread).
_CHECKPOINT_EVERY = 200
#: Log pages past which the serving connection copies the log back itself: a backstop,
#: should the checkpoint thread fall far behind.
_BACKSTOP_PAGES = 20_000


class SqliteTaskStore:
    """Tasks in a SQLite file (see the module docstring for what the file keeps)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=10, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")
        self._db.executescript(_SCHEMA)
        self._checkpoints = _Checkpointer(self.path)
        self._commits = 0
        self._link_secret = self._secret("link_secret")
        self._token_secret = self._secret("token_secret")
        self._keys: dict[str, str] = {}
        self._kept_time = float("-inf")
        self._hash_plain_tokens()

    def add(self, task: Task) -> bool:
        """Store and commit a new task, its token as a keyed hash; False, storing nothing,
        when its id is taken already (by this process or another sharing the file)."""
        data = _task_to_dict(task)
        data["token"] = self._key(task.token)
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO tasks (id, expires_at, polls, ended_at, task)"
                " VALUES (?, ?, ?, ?, ?)",
                (task.id, task.expires_at(), task.polls, task.ended_at, json.dumps(data)),
            )
            self._committed()
        return cursor.rowcount == 1

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now (its ``token`` the keyed hash), or None."""
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
            self._committed()

    def owns(self, task: Task, token: str | None) -> bool:
        """True when ``token`` created ``task`` (as :meth:`get` reads it: keyed hashes match)."""
        return token is not None and hmac.compare_digest(task.token, self._key(token))

    def keep_time(self, now: float) -> float:
        """Commit ``now`` as reached unless the file has a later time; return the file's
        time (at least ``now``): the latest any engine on the file answered at."""
        with self._lock:
            if now > self._kept_time:
                self._db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'clock' AND value < ?", (now, now)
                )
            (reached,) = self._db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
            self._kept_time = float(reached)
        return self._kept_time

    def settle(self) -> None:
        """Nothing to do yet: :meth:`keep_time` commits the time at once."""

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
        """Delete every task (the mock time and the secrets stay)."""
        with self._lock:
            self._db.execute("DELETE FROM tasks")

    def link_secret(self) -> bytes:
        """The secret that signs file links: made at the file's first open, kept in it."""
        return self._link_secret

    def close(self) -> None:
        """Close the connection (and the checkpoint thread's)."""
        with self._lock:
            self._checkpoints.stop()
            self._db.close()

    def _committed(self) -> None:
        """Count a commit; every so many, wake the checkpoint thread."""
        self._commits += 1
        if self._commits >= _CHECKPOINT_EVERY:
            self._commits = 0
            self._checkpoints.wake()

    def _key(self, token: str) -> str:
        """How the file names ``token``: its HMAC-SHA256 under the file's token secret."""
        key = self._keys.get(token)
        if key is None:
            digest = hmac.new(self._token_secret, token.encode(), hashlib.sha256).hexdigest()
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            key = self._keys[token] = HASH_PREFIX + digest
        return key

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

    def _hash_plain_tokens(self) -> None:
        """Bring a file written before keyed hashes up to date, once: hash its tokens (the
        plain ones overwritten on disk too) and start its clock at the latest time its
        tasks show. A new file has nothing to hash."""
        with self._lock:
            if self._marked():
                return
            self._db.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed
            self._db.execute("BEGIN IMMEDIATE")  # one process does it; the others wait
            try:
                rows = (
                    []
                    if self._marked()  # another process did it while this one waited
                    else self._db.execute("SELECT id, ended_at, task FROM tasks").fetchall()
                )
                latest = 0.0
                for task_id, ended_at, stored in rows:
                    data = json.loads(stored)
                    latest = max(latest, data["created_at"], ended_at or 0.0)
                    data["token"] = self._key(data["token"])
                    self._db.execute(
                        "UPDATE tasks SET task = ? WHERE id = ?", (json.dumps(data), task_id)
                    )
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('clock', ?)", (latest,)
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 1)", (_HASHED,)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute("PRAGMA secure_delete = OFF")
            if rows:  # the plain tokens' old pages: out of the log, overwritten in the file
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _marked(self) -> bool:
        """True when the file's tokens are keyed hashes already."""
        row = self._db.execute("SELECT 1 FROM meta WHERE key = ?", (_HASHED,)).fetchone()
        return row is not None


class _Checkpointer:
    """A thread with its own connection that copies the log back into the file when woken.

    A checkpoint waits on the disk (it syncs the log and the file): done in a commit, it
    would stall the request that happened to make it. SQLite lets it run beside the writers
    (``PASSIVE``); the thread waits in SQLite, which lets go of the GIL. Started at the
    first wake, so a store that writes little never has one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._due = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Ask for a checkpoint (one runs soon; wakes while one runs ask for one more)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="sora-mock-checkpoint", daemon=True
            )
            self._thread.start()
        self._due.set()

    def stop(self) -> None:
        """End the thread (after the checkpoint it may be running) and close its connection."""
        self._stopping = True
        self._due.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping:
                    return
                with contextlib.suppress(sqlite3.Error):  # the serving connection's backstop
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            db.close()


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
