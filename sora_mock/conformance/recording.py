"""One engine per situation, recording every exchange with its journal entry.

:class:`RecordingEngine` is an :class:`~sora_mock.engine.Engine` that keeps every
:class:`~sora_mock.engine.Exchange` it answered (request with its body, response, journal
entry) in a :class:`~sora_mock.engine.Recorder`, and serves a situation's body
:class:`Variation`. Its traffic is told to no in-process listener, so a conformance run never
counts in the pytest plugin's contract coverage. Giving every
situation its own engine isolates them completely: no shared rate limits, bursts or
tasks, and a request without a token is still known to belong to its situation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sora_mock.conformance.outcome import Made
from sora_mock.conformance.situations import Situation
from sora_mock.conformance.variations import Variation, fixed_variations
from sora_mock.contract import Contract, Request
from sora_mock.engine import (
    Clock,
    Engine,
    Exchange,
    Match,
    MockConfig,
    Observation,
    Recorder,
    Scenario,
    Task,
)


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
        #: Every exchange answered, oldest first; set its ``on_record`` to hear of each.
        self.exchanges = Recorder()
        self._value_paths: dict[str, dict[str, tuple[str | int, ...]]] = {}

    def exchange(self, request: Request) -> Exchange:
        """Answer as the engine does, and record the exchange."""
        return self.exchanges.answer(super().exchange, request)

    def render(self, task: Task, seen: Observation, now: float) -> dict[str, Any]:
        """The task body, changed by the situation's variation."""
        body = super().render(task, seen, now)
        return self.variation.apply(body) if self.variation is not None else body

    def made(self) -> dict[str, Made]:
        """What every task seen completed made, by task id: its body as the engine renders
        it (before the variation changes it) and the values of its model that show whole."""
        with self.lock:
            now = self.clock.now()
            found = {}
            for task in self.store:
                final = task.plan.final
                if task.ended_at is None or final.status != "completed":
                    continue
                body = Engine.render(self, task, final, now)
                found[task.id] = Made.from_body(body, self.value_paths(task.model))
            return found

    def value_paths(self, model: str) -> dict[str, tuple[str | int, ...]]:
        """Where a task of ``model`` shows each value it draws or serves as a file."""
        if model not in self._value_paths:
            tasks = self.contract.tasks
            found: dict[str, tuple[str | int, ...]] = {}
            spec = tasks.models.get(model)
            if spec is not None:
                for name in (*spec.generated, *spec.files):
                    paths = tasks.task.paths(name)
                    if not paths and spec.completed is not None:
                        paths = spec.completed.paths(name)
                    if paths:
                        found[name] = paths[0]
            self._value_paths[model] = found
        return self._value_paths[model]


def build_engine(
    situation: Situation,
    *,
    contract: Contract,
    config: MockConfig,
    clock: Clock,
    speed: float,
    seed: int | None = None,
    variation: Variation | None = None,
    model: str | None = None,
) -> RecordingEngine:
    """A fresh engine serving ``situation`` to every request.

    ``speed`` is mock seconds per client second: a computed rate limit spans that many
    client seconds whatever the clock. ``variation`` overrides the situation's own (whose
    fixed variations are those of a task of ``model``, default: the contract's first).
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
        config = config.with_overrides(overrides, contract)
    if variation is None and situation.variation is not None:
        variation = fixed_variations(contract, model)[situation.variation]
    engine = RecordingEngine(
        contract=contract, config=config, clock=clock, seed=seed, variation=variation
    )
    engine.load_scenarios([_scenario(engine, situation, variation)])
    return engine


def _scenario(engine: Engine, situation: Situation, variation: Variation | None) -> Scenario:
    task = dict(situation.task)
    if variation is not None:
        task.update(variation.task())
    result = dict(task.pop("result", {}))
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
        result={**scenario.result, **result},
    )
