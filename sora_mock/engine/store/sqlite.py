"""A task store in a SQLite file: tasks survive a restart and are shared by worker processes.

Every acknowledged task is committed before its response is written (WAL journal), so
killing the server loses none. Each process keeps its own connection; SQLite serialises
writers across processes. What is *not* shared between workers: rate-limit windows, spent
credits, burst counts and the journal (each worker keeps its own).

How writes are committed depends on the store's mode:

- per answer (the default): each write commits at once, with the time kept but not yet
  committed in the same transaction, and :meth:`SqliteTaskStore.settle` commits that time
  when the answer wrote nothing else.
- in a group (``group=True``, the HTTP server with ``--state``): the first write opens a
  transaction (``BEGIN IMMEDIATE``) that stays open, later answers' writes join it, and
  :meth:`SqliteTaskStore.settle` commits nothing. :meth:`SqliteTaskStore.commit_group` is
  the one way it is committed: with the latest time kept, in one ``COMMIT`` for every
  answer since the last. The caller sends none of those answers before it returns True;
  when it returns False (the commit failed: rolled back, the decoded tasks forgotten), none
  of them was acknowledged. Between writes the open transaction holds the file's write lock,
  so another worker's writes wait for the group's commit (the server commits every pass of
  its event loop).

What an answer costs: one look at whether another connection wrote (``PRAGMA data_version``,
at its start, in :meth:`SqliteTaskStore.keep_time`; the answer's reads and writes use that
view) and its writes: the new task, or a poll's count (with its end and expiry only when
this read ends the task), and the answer's time, in a transaction of its own or its share of
the group's. Tasks the answers touched stay decoded beside the file until another connection
writes.

Why ``synchronous=NORMAL``: in WAL mode a commit is written to the log without a sync at
either setting; once ``write()`` returns, the commit is the operating system's, and killing
the process (``kill -9`` included) loses none of it. A sync only guards against a power cut
or an operating-system crash, and NORMAL does it at checkpoints, which a thread runs beside
the requests; OFF would save those syncs, not a request's time, and leave a power cut able to
corrupt the file rather than only lose its last commits.

Besides the tasks, the file's ``meta`` table keeps:

- ``clock``: the latest mock time any engine on the file has answered at (the largest any
  worker wrote), committed before the answer is sent; a restarted engine continues from it.
- ``token_secret``: the key of the HMAC-SHA256 under which tasks name their owner. The file
  holds no bearer token, only these keyed hashes; a file written before them has its tokens
  hashed when it is opened.
- ``link_secret``: what file links are signed with (:meth:`SqliteTaskStore.link_secret`).

The secrets are drawn at the file's first open (the first process to store one wins) and
live as long as the file.

The ``tokens`` table keeps, once per keyed hash, the token masked for display
(:func:`~sora_mock.engine.journal.mask_token`), written with the token's first task.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sora_mock.engine.journal import mask_token
from sora_mock.engine.store.stored import Row, SharedForms, StoredTask
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
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    shown TEXT NOT NULL
);
"""
_SHOW_TOKEN = "INSERT OR IGNORE INTO tokens (hash, shown) VALUES (?, ?)"
#: What a task whose token the file does not show (written before it kept them) shows.
UNSHOWN_TOKEN = "***"
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
#: Most tasks a store keeps decoded beside the file (clients poll the tasks they just made).
_ROWS_KEPT = 4096
#: Raise the file's time to the one given, never lower it (workers keep the largest).
_KEEP_CLOCK = "UPDATE meta SET value = ? WHERE key = 'clock' AND value < ?"


#: Most tasks one trim deletes (a lowered bound is reached over several requests).
_TRIM_BATCH = 10_000
#: The meta row that counts the tasks, and the triggers that keep it (every writer's rows
#: count, in the transaction that writes them). A file written before it is counted once.
_COUNTED = "tasks"
_COUNT_TASKS = (
    f"INSERT OR IGNORE INTO meta (key, value) SELECT '{_COUNTED}', COUNT(*) FROM tasks",
    "CREATE TRIGGER IF NOT EXISTS tasks_added AFTER INSERT ON tasks BEGIN"
    f" UPDATE meta SET value = value + 1 WHERE key = '{_COUNTED}'; END",
    "CREATE TRIGGER IF NOT EXISTS tasks_deleted AFTER DELETE ON tasks BEGIN"
    f" UPDATE meta SET value = value - 1 WHERE key = '{_COUNTED}'; END",
)


class SqliteTaskStore:
    """Tasks in a SQLite file (see the module docstring for what the file keeps)."""

    def __init__(self, path: str | Path, *, group: bool = False) -> None:
        self.path = Path(path)
        self.group = group
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=10, check_same_thread=False, isolation_level=None
        )
        # Switching to WAL needs the file to itself (busy connections make it fail at once,
        # with no wait): done once, by whoever opens a new file first; a WAL file stays so.
        (mode,) = self._db.execute("PRAGMA journal_mode").fetchone()
        if mode != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")
        self._db.executescript(_SCHEMA)
        self._checkpoints = _Checkpointer(self.path)
        self._since_checkpoint = 0  # commits since the checkpoint thread was woken
        self.commits = 0  # transactions committed by answers' writes and times
        self._link_secret = self._secret("link_secret")
        self._token_secret = self._secret("token_secret")
        self._keys: dict[str, str] = {}
        self._shown: dict[str, str] = {}  # keyed hash -> masked token, as the file has them
        self._forms = SharedForms()
        self._kept_time = float("-inf")
        self._unsettled: float | None = None  # a time kept, not yet committed
        self._rows: dict[str, Row] = {}  # decoded tasks, as the file has them
        self._soonest: float | None = None  # the earliest expiry in the file (None: unknown)
        self._version: int | None = None  # the file's data_version when last looked at
        self._changes = -1  # this connection's total_changes when last looked at
        self._answering = False  # between keep_time and settle: the view looked at serves
        self._count: int | None = None  # the file's task count (None: read it from the file)
        self._hash_plain_tokens()
        self._count_tasks()

    def add(self, task: Task) -> bool:
        """Store and commit a new task, its token as a keyed hash; False, storing nothing,
        when its id is taken already (by this process or another sharing the file)."""
        stored = StoredTask.of(task, self._forms)
        owner = stored.data["token"] = self._key(task.token)
        expires = task.expires_at()
        with self._lock:
            self._see()
            shown = None
            if owner not in self._shown:  # a token's first task: how the file shows it
                shown = mask_token(task.token) or UNSHOWN_TOKEN
            added = (
                self._write(
                    "INSERT OR IGNORE INTO tasks (id, expires_at, polls, ended_at, task)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (task.id, expires, task.polls, task.ended_at, stored.text()),
                    before=() if shown is None else ((_SHOW_TOKEN, (owner, shown)),),
                )
                == 1
            )
            if shown is not None:
                self._remember_shown(owner, shown)
            if added:
                created = {**stored.data, "plan": task.plan, "reported": task.reported}
                self._remember(task.id, Row(created, task.polls, task.ended_at))
                if self._soonest is not None:
                    self._soonest = min(self._soonest, expires)
                if self._count is not None:
                    self._count += 1
        return added

    def get(self, task_id: str) -> Task | None:
        """The task ``task_id`` as stored now (its ``token`` the keyed hash), or None."""
        with self._lock:
            row = self._row(task_id)
        return None if row is None else row.task()

    def save(self, task: Task) -> None:
        """Commit the task's polls and end time (and its expiry, which follows the end)."""
        with self._lock:
            self._see()
            row = self._rows.get(task.id)
            if row is not None and row.ended_at == task.ended_at:
                # The expiry is unchanged: its index page stays out of the commit.
                self._write("UPDATE tasks SET polls = ? WHERE id = ?", (task.polls, task.id))
            else:
                expires = task.expires_at()
                self._write(
                    "UPDATE tasks SET polls = ?, ended_at = ?, expires_at = ? WHERE id = ?",
                    (task.polls, task.ended_at, expires, task.id),
                )
                if self._soonest is not None:
                    self._soonest = min(self._soonest, expires)
            if row is not None:
                row.polls, row.ended_at = task.polls, task.ended_at

    def owns(self, task: Task, token: str | None) -> bool:
        """True when ``token`` created ``task`` (as :meth:`get` reads it: keyed hashes match)."""
        return token is not None and hmac.compare_digest(task.token, self._key(token))

    def shown_token(self, task: Task) -> str:
        """The masked token the file keeps beside the keyed hash in ``task.token`` (as
        :meth:`get` reads it), once per token; ``***`` when it keeps none."""
        with self._lock:
            self._see()
            shown = self._shown.get(task.token)
            if shown is None:
                found = self._db.execute(
                    "SELECT shown FROM tokens WHERE hash = ?", (task.token,)
                ).fetchone()
                shown = (
                    UNSHOWN_TOKEN if found is None else self._remember_shown(task.token, found[0])
                )
        return shown

    def keep_time(self, now: float) -> float:
        """Keep ``now`` as reached unless the file has a later time; return the file's time
        (at least ``now``): the latest any engine on the file answered at. ``now`` is
        committed with the next write (:meth:`add`, :meth:`save`) or by :meth:`settle`."""
        with self._lock:
            self._look()
            self._answering = True
            if now > self._kept_time:
                self._kept_time = self._unsettled = now
            return self._kept_time

    def settle(self) -> None:
        """Commit the time :meth:`keep_time` kept, unless a write has committed it (in a
        group, nothing: :meth:`commit_group` commits it)."""
        with self._lock:
            self._answering = False
            if self._unsettled is not None and not self.group:
                self._write(_KEEP_CLOCK, (self._unsettled, self._unsettled))

    def pending(self) -> bool:
        """True when writes or a kept time wait for :meth:`commit_group` (in a group only)."""
        with self._lock:
            return self.group and (self._db.in_transaction or self._unsettled is not None)

    def commit_group(self) -> bool:
        """Commit every write and the time kept since the last commit, in one transaction;
        True when they are durable (or nothing was pending). False when the commit failed:
        it is rolled back, and the tasks this store had decoded, its task count and its
        view of the file are forgotten (it reads them again)."""
        with self._lock:
            due = self._unsettled
            committed = True
            if self._db.in_transaction or due is not None:
                try:
                    if not self._db.in_transaction:
                        self._db.execute("BEGIN IMMEDIATE")
                    if due is not None:
                        self._db.execute(_KEEP_CLOCK, (due, due))
                    self._db.execute("COMMIT")
                except sqlite3.Error:
                    committed = False
                    if self._db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self._db.execute("ROLLBACK")
                    self._forget_rows()
                    self._version = None  # look at the file again: its time, its tasks
                else:
                    self._committed()
                self._unsettled = None
        return committed

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
        return iter([Row.from_text(text, polls, ended_at).task() for polls, ended_at, text in rows])

    def purge(self, now: float, limit: int | None = None) -> int:
        """Delete tasks whose stored expiry has passed (at most ``limit``)."""
        with self._lock:
            self._see()
            if self._soonest is None:
                (soonest,) = self._db.execute("SELECT min(expires_at) FROM tasks").fetchone()
                self._soonest = float("inf") if soonest is None else soonest
            if now < self._soonest:  # nothing has expired: no write
                return 0
            dropped = self._write(
                "DELETE FROM tasks WHERE id IN "
                "(SELECT id FROM tasks WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (now, -1 if limit is None else limit),
            )
            self._forget_rows()
        return dropped

    def trim(self, max_tasks: int) -> int:
        """Delete tasks while more than ``max_tasks`` are stored, at most a batch a call:
        finished ones (their end recorded) first, those whose expiry comes first (the
        earliest ended, under one retention); when none is, those whose expiry comes first.
        The file counts its tasks (every process's)."""
        with self._lock:
            self._see()
            if self._count is None:
                (self._count,) = self._db.execute(
                    "SELECT value FROM meta WHERE key = ?", (_COUNTED,)
                ).fetchone()
            excess = min(self._count - max_tasks, _TRIM_BATCH)
            forgotten = 0
            for which in ("WHERE ended_at IS NOT NULL", ""):
                if forgotten >= excess:
                    break
                forgotten += self._write(
                    f"DELETE FROM tasks WHERE id IN (SELECT id FROM tasks {which}"
                    " ORDER BY expires_at LIMIT ?)",
                    (excess - forgotten,),
                )
            if forgotten:
                self._forget_rows()
        return forgotten

    def clear(self) -> None:
        """Delete every task (the mock time and the secrets stay)."""
        with self._lock:
            self._write("DELETE FROM tasks", ())
            self._forget_rows()

    def link_secret(self) -> bytes:
        """The secret that signs file links: made at the file's first open, kept in it."""
        return self._link_secret

    def close(self) -> None:
        """Close the connection (and the checkpoint thread's)."""
        with self._lock:
            self._checkpoints.stop()
            self._db.close()

    def _write(
        self,
        sql: str,
        parameters: tuple[Any, ...],
        before: tuple[tuple[str, tuple[Any, ...]], ...] = (),
    ) -> int:
        """Run one write (after the writes ``before`` it, in its transaction) and commit
        them, with the time kept but not yet committed in the same transaction (in a group:
        run them in the group's transaction, opened by the first write, and commit
        nothing); the number of rows the one write changed."""
        due = self._unsettled
        if self.group:
            if not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
                self._look_again()  # another worker may have committed since the answer began
            changed = self._run(sql, parameters, before)
            self._changes = self._db.total_changes
        elif due is None and not before:
            changed = self._db.execute(sql, parameters).rowcount
            self._committed()
        else:
            with self._immediate():
                changed = self._run(sql, parameters, before)
                if due is not None:
                    self._db.execute(_KEEP_CLOCK, (due, due))
            self._unsettled = None
            self._committed()
        return changed

    def _run(
        self, sql: str, parameters: tuple[Any, ...], before: tuple[tuple[str, tuple[Any, ...]], ...]
    ) -> int:
        """Run the writes ``before``, then ``sql``; the number of rows ``sql`` changed."""
        for statement, values in before:
            self._db.execute(statement, values)
        return int(self._db.execute(sql, parameters).rowcount)

    def _committed(self) -> None:
        """Note a commit; every so many, wake the checkpoint thread."""
        self._changes = self._db.total_changes
        self.commits += 1
        self._since_checkpoint += 1
        if self._since_checkpoint >= _CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._checkpoints.wake()

    def _see(self) -> None:
        """Look at the file (:meth:`_look`) unless an answer is in progress: its reads and
        writes use the view :meth:`keep_time` took at its start, as if other connections'
        commits meanwhile had come after the answer (writes stay safe: ids are taken by
        ``INSERT OR IGNORE``, so two processes never store one id)."""
        if not self._answering:
            self._look()

    def _look(self) -> None:
        """Read the file's time again, and forget the decoded tasks, when the file changed
        other than through this store's writes (another connection committed: a worker, a
        restarted server still closing). Not while a group's transaction is open: it holds
        the file's write lock, and it looked when it began (:meth:`_write`)."""
        if not self._db.in_transaction:
            self._look_again()

    def _look_again(self) -> None:
        """:meth:`_look`, now."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        if version != self._version or self._db.total_changes != self._changes:
            self._version, self._changes = version, self._db.total_changes
            (reached,) = self._db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
            self._kept_time = max(self._kept_time, float(reached))
            self._forget_rows()

    def _forget_rows(self) -> None:
        """Forget what this store knows of the file's tasks and tokens: it reads them again."""
        self._rows.clear()
        self._shown.clear()
        self._soonest = None
        self._count = None

    def _row(self, task_id: str) -> Row | None:
        """The decoded row of ``task_id`` as stored now, or None (the lock held)."""
        self._see()
        row = self._rows.get(task_id)
        if row is None:
            stored = self._db.execute(
                "SELECT polls, ended_at, task FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
            if stored is None:
                return None
            polls, ended_at, text = stored
            row = self._remember(task_id, Row.from_text(text, polls, ended_at))
        return row

    def _remember_shown(self, owner: str, shown: str) -> str:
        """Note that the file shows the token hashed as ``owner`` as ``shown``."""
        if len(self._shown) >= _KEYS_KEPT:
            self._shown.clear()
        self._shown[owner] = shown
        return shown

    def _remember(self, task_id: str, row: Row) -> Row:
        """Keep ``row`` decoded (the first few thousand tasks; then from none again)."""
        if len(self._rows) >= _ROWS_KEPT:
            self._rows.clear()
        self._rows[task_id] = row
        return row

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
            try:
                with self._immediate():  # one process does it; the others wait
                    rows = (
                        []
                        if self._marked()  # another process did it while this one waited
                        else self._db.execute("SELECT id, ended_at, task FROM tasks").fetchall()
                    )
                    latest = 0.0
                    for task_id, ended_at, stored in rows:
                        data = json.loads(stored)
                        latest = max(latest, data["created_at"], ended_at or 0.0)
                        plain = data["token"]
                        data["token"] = self._key(plain)
                        shown = mask_token(plain) or UNSHOWN_TOKEN
                        self._db.execute(_SHOW_TOKEN, (data["token"], shown))
                        self._db.execute(
                            "UPDATE tasks SET task = ? WHERE id = ?", (json.dumps(data), task_id)
                        )
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('clock', ?)", (latest,)
                    )
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 1)", (_HASHED,)
                    )
            finally:
                self._db.execute("PRAGMA secure_delete = OFF")
            if rows:  # the plain tokens' old pages: out of the log, overwritten in the file
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _count_tasks(self) -> None:
        """Start counting the file's tasks in its meta table, unless it does already (one
        process does it; the others wait, then find it done)."""
        with self._lock, self._immediate():
            for statement in _COUNT_TASKS:
                self._db.execute(statement)

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """A transaction that takes the file's write lock at once (``BEGIN IMMEDIATE``),
        committed when the block ends, rolled back when it raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

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
