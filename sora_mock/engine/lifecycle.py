"""How a task's state follows from its plan, the time and its polls: a pure function.

A task never stores its status; it is computed whenever it is read from the plan, the
elapsed mock time and the number of earlier status reads. Both only grow, so status and
progress can only move forward, terminal states are final, and no background job is
needed to move tasks along.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

Status = Literal["pending", "processing", "completed", "failed"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed"})
Outcome = Literal["completed", "failed"]


@dataclass(frozen=True)
class Failure:
    """How a failed task reports its failure."""

    code: str
    message: str
    progress: int = 0


@dataclass(frozen=True)
class Lifecycle:
    """How long each state lasts and how the task ends.

    A state lasts until both its mock seconds have passed and its polls (status reads) have
    been made; ``processing_seconds=None`` means the task never finishes. ``progress_curve``
    lists the progress values shown across the processing state (linear when empty).
    """

    pending_seconds: float = 5.0
    processing_seconds: float | None = 145.0
    pending_polls: int = 0
    processing_polls: int = 0
    progress_curve: tuple[int, ...] = ()
    outcome: Outcome = "completed"
    failure: Failure = Failure("generation_failed_no_content", "Generation failed.")

    @cached_property
    def counts_polls(self) -> bool:
        """True when polls, not only time, decide when states end."""
        return self.pending_polls > 0 or self.processing_polls > 0

    @cached_property
    def seconds_to_end(self) -> float:
        """Mock seconds from creation to the terminal state when polls do not matter (else
        a lower bound); ``inf`` for a task that never finishes."""
        if self.processing_seconds is None:
            return math.inf
        return self.pending_seconds + self.processing_seconds

    @cached_property
    def final(self) -> Observation:
        """The state a task with this plan ends in (and keeps)."""
        return Observation(self.outcome, _final_progress(self))


def lifecycle_from_dict(data: Mapping[str, Any], base: Lifecycle) -> Lifecycle:
    """``base`` with the keys of a ``lifecycle`` mapping applied."""
    failure = dataclasses.replace(base.failure, **data.get("failure", {}))
    plain = {k: v for k, v in data.items() if k != "failure"}
    if "progress_curve" in plain:
        plain["progress_curve"] = tuple(plain["progress_curve"])
    return dataclasses.replace(base, **plain, failure=failure)


@dataclass(frozen=True, slots=True)
class Observation:
    """A task's state at one moment."""

    status: Status
    progress: int

    @property
    def terminal(self) -> bool:
        """True for completed and failed."""
        return self.status in TERMINAL


#: The state of every task before its pending time (and polls) are over.
PENDING = Observation("pending", 0)


def observe(plan: Lifecycle, created_at: float, now: float, polls: int = 0) -> Observation:
    """The state of a task with ``plan`` created at ``created_at``, read at ``now``.

    ``polls`` is how many status reads came before this one.
    """
    elapsed = max(0.0, now - created_at)
    if elapsed < plan.pending_seconds or polls < plan.pending_polls:
        return PENDING
    final = plan.final.progress
    time_fraction = _fraction(elapsed - plan.pending_seconds, plan.processing_seconds)
    poll_fraction = _fraction(polls - plan.pending_polls, plan.processing_polls)
    fraction = min(time_fraction, poll_fraction)
    if fraction < 1.0:
        return Observation("processing", _progress(plan, fraction, final))
    return plan.final


def _fraction(done: float, total: float | None) -> float:
    if total is None:
        return 0.0
    if total <= 0:
        return 1.0
    return max(0.0, min(1.0, done / total))


def _final_progress(plan: Lifecycle) -> int:
    return 100 if plan.outcome == "completed" else plan.failure.progress


def _progress(plan: Lifecycle, fraction: float, final: int) -> int:
    # Processing tasks report strictly less than a completed task's 100; a task bound to
    # fail climbs towards the progress it fails at.
    ceiling = 99 if final == 100 else final
    if plan.progress_curve:
        curve = plan.progress_curve
        step = min(len(curve) - 1, math.floor(fraction * len(curve)))
        return min(ceiling, curve[step])
    return min(ceiling, math.floor(fraction * (ceiling + 1)))
