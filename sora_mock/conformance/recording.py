"""One engine per situation, recording every exchange with its journal entry.

:class:`RecordingEngine` is an :class:`~sora_mock.engine.core.Engine` that keeps each request it
answered (with the body, which the journal does not keep) next to the journal entry the
engine wrote for it, and serves a situation's body :class:`Variation`. Giving every
situation its own engine isolates them completely: no shared rate limits, bursts or
tasks, and a request without a token is still known to belong to its situation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sora_mock.conformance.situations import Situation
from sora_mock.conformance.variations import Variation, fixed_variations
from sora_mock.contract import Contract, Request, Response
from sora_mock.engine import (
    Clock,
    Engine,
    JournalEntry,
    Match,
    MockConfig,
    Observation,
    ResultOverrides,
    Scenario,
    Task,
)

CREATE_OPERATION = "createCharacterGeneration"
POLL_OPERATION = "getTaskDetail"


@dataclass(frozen=True)
class Exchange:
    """One request the client sent and the answer it got, as the journal recorded it."""

    request: Request
    response: Response
    entry: JournalEntry

    @property
    def time(self) -> float:
        """Mock time at which the engine answered."""
        return self.entry.time

    @property
    def operation(self) -> str | None:
        """``createCharacterGeneration``, ``getTaskDetail``, ``mock`` or None (no route)."""
        return self.entry.operation

    @property
    def is_create(self) -> bool:
        """True for a create call."""
        return self.entry.operation == CREATE_OPERATION

    @property
    def is_poll(self) -> bool:
        """True for a task status read."""
        return self.entry.operation == POLL_OPERATION

    @property
    def task_id(self) -> str | None:
        """The task this call made or read, if any."""
        return self.entry.task_id

    def body_json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response.body)
        except ValueError:
            return None

    def task_status(self) -> str | None:
        """The task ``status`` of a 200 answer, else None."""
        body = self.body_json() if self.response.status == 200 else None
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None

    def summary(self) -> str:
        """``POST /v1/videos/generations -> 200 pending`` and the like."""
        target = self.request.path + (f"?{self.request.query}" if self.request.query else "")
        return f"{self.request.method} {target} -> {self.response.status} {self._gist()}".rstrip()

    def _gist(self) -> str:
        body = self.body_json()
        if not isinstance(body, dict):
            return ""
        if isinstance(body.get("error"), dict) and "status" not in body:
            return str(body["error"].get("code", ""))
        status = body.get("status")
        if status == "processing":
            return f"processing {body.get('progress')}%"
        if status == "failed" and isinstance(body.get("error"), dict):
            return f"failed {body['error'].get('code')}"
        return str(status or "")


class RecordingEngine(Engine):
    """An engine that records its exchanges and rewrites task bodies by a variation."""

    def __init__(
        self,
        *,
        contract: Contract,
        config: MockConfig,
        clock: Clock,
        seed: int | None = None,
        variation: Variation | None = None,
    ) -> None:
        super().__init__(contract=contract, config=config, clock=clock, seed=seed)
        self.variation = variation
        self.exchanges: list[Exchange] = []
        self.on_request: Callable[[Exchange], None] | None = None

    def handle(self, request: Request) -> Response:
        """Answer as the engine does, and record the exchange."""
        with self.lock:
            response = super().handle(request)
            entry = self.journal.last
            assert entry is not None  # handle always records
            exchange = Exchange(request, response, entry)
            self.exchanges.append(exchange)
        if self.on_request is not None:
            self.on_request(exchange)
        return response

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        """The task body, changed by the situation's variation."""
        body = super().render(task, seen, now)
        return self.variation.apply(body) if self.variation is not None else body

    def character_names(self) -> dict[str, str]:
        """The character name of every task created, by task id."""
        with self.lock:
            return {t.id: t.character_name for t in self.store}


def build_engine(
    situation: Situation,
    *,
    contract: Contract,
    config: MockConfig,
    clock: Clock,
    speed: float,
    seed: int | None = None,
    variation: Variation | None = None,
) -> RecordingEngine:
    """A fresh engine serving ``situation`` to every request.

    ``speed`` is mock seconds per client second: a computed rate limit spans that many
    client seconds whatever the clock. ``variation`` overrides the situation's own.
    """
    overrides: dict[str, Any] = {}
    if not config.accept_unknown_tokens:
        # The harness hands out its own tokens; a settings file must not refuse them.
        overrides["auth"] = {"accept_unknown_tokens": True}
    if situation.rate_limit is not None:
        requests, seconds = situation.rate_limit
        limit = {"requests": requests, "window_seconds": seconds * speed}
        overrides["tokens"] = {"default": {"rate_limit": limit}}
    if overrides:
        config = config.with_overrides(overrides)
    if variation is None and situation.variation is not None:
        variation = fixed_variations(contract)[situation.variation]
    engine = RecordingEngine(
        contract=contract, config=config, clock=clock, seed=seed, variation=variation
    )
    engine.load_scenarios([_scenario(engine, situation, variation)])
    return engine


def _scenario(engine: Engine, situation: Situation, variation: Variation | None) -> Scenario:
    task = dict(situation.task)
    if variation is not None:
        task.update(variation.task())
    result = ResultOverrides(**task.pop("result", {}))
    if situation.builtin is not None:
        base = engine.scenarios.get(situation.builtin)
        if base is None:
            raise LookupError(f"no built-in scenario {situation.builtin!r}")
        if task:
            task = {**base.task, **task}
        scenario = dataclasses.replace(base, task=task or base.task)
    else:
        scenario = Scenario(situation.name, task=task, result=result)
    # A match with no parts fits every request: the client need not help choose.
    return dataclasses.replace(
        scenario,
        name=f"conformance-{situation.name}",
        description=situation.description,
        source="conformance",
        match=Match(),
        result=result if result != ResultOverrides() else scenario.result,
    )
