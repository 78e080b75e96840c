"""Where tasks live: in memory (the default) or in a SQLite file shared by processes."""

from sora_mock.engine.store.memory import TaskStore
from sora_mock.engine.store.sqlite import SqliteTaskStore
from sora_mock.engine.store.task import Task, TaskStorage

__all__ = ["SqliteTaskStore", "Task", "TaskStorage", "TaskStore"]
