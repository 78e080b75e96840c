"""How a task's state follows from its plan and the time: a pure function, no storage.

A task never stores its status; it is computed from the plan and the elapsed mock time
whenever it is read. So status and progress can only move forward, terminal states are
final, and no background job is needed to move tasks along.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sora_mock.config import Failure, Lifecycle

Status = Literal["pending", "processing", "completed", "failed"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class Observation:
    """A task's state at one moment."""

    status: Status
    progress: int
    ended_at: float | None  # mock time the task reached its terminal state, if it has


def observe(plan: Lifecycle, created_at: float, now: float) -> Observation:
    """The state of a task with ``plan``, created at ``created_at``, seen at ``now``."""
    elapsed = max(0.0, now - created_at)
    if elapsed < plan.pending_seconds:
        return Observation("pending", 0, None)
    processing = elapsed - plan.pending_seconds
    final = _final_progress(plan)
    if processing < plan.processing_seconds:
        fraction = processing / plan.processing_seconds
        return Observation("processing", _rising(fraction, final), None)
    ended_at = created_at + plan.pending_seconds + plan.processing_seconds
    return Observation(plan.outcome, final, ended_at)


def ends_at(plan: Lifecycle, created_at: float) -> float:
    """Mock time at which a task with ``plan`` reaches its terminal state."""
    return created_at + plan.pending_seconds + plan.processing_seconds


def _final_progress(plan: Lifecycle) -> int:
    return 100 if plan.outcome == "completed" else plan.failure.progress


def _rising(fraction: float, final: int) -> int:
    # Processing tasks report strictly less than a completed task's 100; a task bound to
    # fail climbs towards the progress it fails at.
    ceiling = 99 if final == 100 else final
    return min(ceiling, math.floor(fraction * (ceiling + 1)))


__all__ = ["TERMINAL", "Failure", "Observation", "Status", "ends_at", "observe"]
