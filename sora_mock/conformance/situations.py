"""The matrix of situations a client is run through, and what a correct client reports.

Each situation is a scenario served to the client without its help (the harness gives
every situation its own engine, whose only loaded scenario matches every request), plus
the outcome a correct client reports. The documented errors of the create and read
operations, the task failure codes and timings of the model under test and the values a
task reports are read from the contract, so the matrix follows the spec.

Example::

    names = [s.name for s in catalogue()]   # "success", "create-insufficient_quota", ...
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sora_mock.conformance.subject import model_of
from sora_mock.conformance.variations import body_shape
from sora_mock.contract import Contract, TaskModel
from sora_mock.errors import UsageError

Kind = Literal["completed", "failed", "error", "gives-up"]

#: HTTP statuses a request cannot succeed after, however often it is sent again.
FUTILE_STATUSES = frozenset({400, 401, 402, 403, 413})


@dataclass(frozen=True)
class Expectation:
    """One outcome a correct client may report.

    ``completed``: success (with values the task made, when the client reports any);
    ``failed``: a non-success carrying the task failure ``code``; ``error``: a non-success,
    whose HTTP status and error code must match when the client reports them;
    ``gives-up``: any non-success (the task never ends).
    """

    kind: Kind
    http_status: int | None = None
    code: str | None = None

    def describe(self) -> str:
        """Short human text, e.g. ``error 402 insufficient_quota``."""
        parts = [self.kind, str(self.http_status or ""), self.code or ""]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Situation:
    """A named situation: how the mock behaves, and what a correct client then reports.

    ``builtin`` names a built-in scenario to serve; otherwise ``task`` (a scenario ``task``
    mapping, as in a scenario file) shapes the task. ``variation`` names a fixed change to
    every task body (see :mod:`sora_mock.conformance.variations`); ``explore`` makes the
    harness search variations with hypothesis. ``rate_limit`` gives the token a computed
    rate limit ``(requests, client seconds)``.
    """

    name: str
    group: str
    description: str
    expect: tuple[Expectation, ...]
    builtin: str | None = None
    task: Mapping[str, Any] = field(default_factory=dict)
    variation: str | None = None
    explore: bool = False
    rate_limit: tuple[int, float] | None = None

    def __str__(self) -> str:
        return self.name

    @property
    def never_ends(self) -> bool:
        """True when a correct client must give up rather than wait for an end."""
        return any(e.kind == "gives-up" for e in self.expect)

    def expected(self) -> str:
        """What a correct client reports, e.g. ``completed`` or ``failed content_policy...``."""
        return " or ".join(e.describe() for e in self.expect)


COMPLETED = (Expectation("completed"),)


#: How long the slow situation's task waits in the queue (mock seconds).
SLOW_PENDING = 30.0


def catalogue(contract: Contract | None = None, model: str | None = None) -> list[Situation]:
    """Every situation of the matrix for a client of ``model`` (default: the contract's
    first), in report order."""
    contract = contract or Contract.bundled()
    chosen = model_of(contract, model)
    usual = _usual_seconds(chosen)
    found = [
        Situation(
            "success",
            "outcome",
            f"The default lifecycle: pending, processing, completed after {usual:g} s.",
            COMPLETED,
            builtin="success",
        ),
        Situation(
            "slow",
            "timing",
            f"A slow task: {2 * usual / 60:g} minutes (twice the usual {usual:g} s) before it "
            "completes.",
            COMPLETED,
            task={
                "pending_seconds": SLOW_PENDING,
                "processing_seconds": max(0.0, 2 * usual - SLOW_PENDING),
            },
        ),
        Situation(
            "never-finishes",
            "timing",
            "The task stays processing forever: the client needs a give-up bound.",
            (Expectation("gives-up"),),
            builtin="never-finishes",
        ),
    ]
    tasks = contract.tasks
    for short, operation in (("create", tasks.create), ("poll", tasks.read)):
        for status, error in sorted(operation.errors.items()):
            found.append(
                Situation(
                    f"{short}-{error.code}",
                    f"{short} error",
                    f"Every {short} call answers {status} {error.code} ({error.message}).",
                    (Expectation("error", status, error.code),),
                    builtin=f"{short}-{error.code}",
                )
            )
    for code in chosen.failure_codes:
        found.append(
            Situation(
                f"fail-{code}",
                "task failure",
                f"The task fails with error code {code}.",
                (Expectation("failed", code=code),),
                builtin=f"fail-{code}",
            )
        )
    shape = body_shape(contract, chosen.name)
    generated = "".join(f"{slot.name}, " for slot in shape.numbers)
    found += [
        Situation(
            "create-rate-limited-once",
            "rate limit",
            "The first create answers 429 with Retry-After: 2, then creates succeed.",
            COMPLETED,
            builtin="create-rate-limited-once",
        ),
        Situation(
            "poll-rate-limited-once",
            "rate limit",
            "The first status read answers 429 with Retry-After: 2, then reads succeed.",
            COMPLETED,
            builtin="poll-rate-limited-once",
        ),
        Situation(
            "rate-limited-token",
            "rate limit",
            "The token may send 2 requests per 5 seconds (the mock computes Retry-After) "
            "while a 5-minute task runs.",
            COMPLETED,
            task={"pending_seconds": 5, "processing_seconds": 295},
            rate_limit=(2, 5.0),
        ),
        Situation(
            "flaky-create",
            "transient error",
            "The first 2 creates answer 500 (no task is made), then creates succeed.",
            (Expectation("completed"), Expectation("error", 500, "internal_error")),
            builtin="flaky-create",
        ),
        Situation(
            "flaky-poll",
            "transient error",
            "The first 2 status reads answer 500, then reads succeed: a status read is safe "
            "to retry, and giving up loses a task that was paid for.",
            COMPLETED,
            builtin="flaky-poll",
        ),
        Situation(
            "progress-jump",
            "unusual response",
            "Progress jumps from 0 to 90 in one step.",
            COMPLETED,
            builtin="progress-jump",
        ),
    ]
    zero = next((slot for slot in shape.numbers if slot.allows(0)), None)
    if zero is not None:
        found.append(
            Situation(
                f"{zero.name.replace('_', '-')}-zero",
                "unusual response",
                f"{zero.where} is 0 ({zero.describe_bounds()}).",
                COMPLETED,
                task={"result": {zero.name: 0}},
            )
        )
    found += [
        Situation(
            "optional-fields-absent",
            "unusual response",
            "Every optional field of the task body is left out.",
            COMPLETED,
            variation="optional-fields-absent",
        ),
        Situation(
            "unknown-fields",
            "unusual response",
            "Task bodies carry extra fields the spec does not name (clients must ignore them).",
            COMPLETED,
            variation="unknown-fields",
        ),
        Situation(
            "unusual-generated",
            "unusual response",
            "Spec-valid variations generated with hypothesis (fields absent, extra fields, "
            f"progress curves, {generated}instant tasks); a breaking one is shrunk to a "
            "minimal example.",
            COMPLETED,
            explore=True,
        ),
    ]
    return found


def _usual_seconds(model: TaskModel) -> float:
    """Mock seconds a task of ``model`` takes by its lifecycle in the spec."""
    lifecycle = model.lifecycle
    return float(lifecycle.get("pending_seconds") or 0) + float(
        lifecycle.get("processing_seconds") or 0
    )


def select(situations: Sequence[Situation], patterns: Iterable[str] | None) -> list[Situation]:
    """The situations whose names match any of ``patterns`` (globs), in matrix order.

    ``None`` selects every situation; a pattern that matches nothing raises
    :class:`~sora_mock.errors.UsageError` naming the known situations.
    """
    if patterns is None:
        return list(situations)
    wanted = [p.strip() for p in patterns if p.strip()]
    chosen = set()
    for pattern in wanted:
        hits = {s.name for s in situations if fnmatch.fnmatchcase(s.name, pattern)}
        if not hits:
            known = ", ".join(s.name for s in situations)
            raise UsageError(f"no situation matches {pattern!r}; known situations: {known}")
        chosen |= hits
    return [s for s in situations if s.name in chosen]
