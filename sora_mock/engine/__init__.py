"""The mock: one synchronous, I/O-free engine and everything it owns.

The engine (:class:`Engine`) answers a :class:`~sora_mock.contract.Request` from the
contract, the configuration, the scenarios, its clock and its task store. Nothing here
knows about ASGI, httpx, pytest, sockets or sleeping: the doors above do.
"""

from sora_mock.engine.admin import admin_exposure_warning
from sora_mock.engine.clock import AdjustableClock, Clock, RealClock, VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.engine.exchange import Exchange, Recorder
from sora_mock.engine.journal import (
    Journal,
    JournalEntry,
    mask_token,
)
from sora_mock.engine.lifecycle import TERMINAL, Observation
from sora_mock.engine.outbox import TIMEOUT_SECONDS, Delivery
from sora_mock.engine.rendering import MOCK_PREFIX
from sora_mock.engine.scenarios import Match, Scenario, ScenarioBook
from sora_mock.engine.store import SqliteTaskStore, Task, TaskStorage, TaskStore

__all__ = [
    "MOCK_PREFIX",
    "TERMINAL",
    "TIMEOUT_SECONDS",
    "AdjustableClock",
    "Clock",
    "Delivery",
    "Engine",
    "Exchange",
    "Journal",
    "JournalEntry",
    "Match",
    "MockConfig",
    "Observation",
    "RealClock",
    "Recorder",
    "Scenario",
    "ScenarioBook",
    "SqliteTaskStore",
    "Task",
    "TaskStorage",
    "TaskStore",
    "VirtualClock",
    "admin_exposure_warning",
    "mask_token",
]
