"""Where tasks live: in memory (the default) or in a SQLite file shared by processes."""

from sora_mock.engine.store.memory import Task, TaskStorage, TaskStore
from sora_mock.engine.store.sqlite import SqliteTaskStore

__all__ = ["SqliteTaskStore", "Task", "TaskStorage", "TaskStore"]
