"""Scenario choice and effects: which scenario a call falls under, and what it does to it.

Used by the engine for every API call; it keeps the burst counters (per task for polls,
per token for creates, so parallel tests never consume each other's burst) and draws
latencies from its own seeded generator. Like the engine, it does no I/O and never waits:
latency and connection faults become fields of the response for the door to carry out.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sora_mock.contract import Contract, Operation, Request, Response
from sora_mock.engine.inbound import parse_prefer
from sora_mock.engine.replies import Answer, documented
from sora_mock.engine.scenarios.book import Effect, ErrorReply, Scenario, ScenarioBook

if TYPE_CHECKING:
    from sora_mock.engine.store import Task

#: How long the ``timeout`` fault waits (real seconds) when the effect sets no latency.
TIMEOUT_FAULT_SECONDS = 300.0


class Effects:
    """The scenario book in force, burst counters and the latency generator."""

    def __init__(self, contract: Contract, book: ScenarioBook, seed: int | None = None) -> None:
        self.contract = contract
        self.book = book
        self.seed = seed
        self._counts: dict[tuple[str, ...], int] = {}
        self._random = random.Random(seed)

    def reset(self) -> None:
        """Forget burst counts and restart the latency generator."""
        self._counts.clear()
        self._random = random.Random(self.seed)

    def choose(
        self,
        op: Operation,
        operation: str,
        request: Request,
        token: str | None,
        body: Mapping[str, Any] | None,
        task: Task | None,
    ) -> tuple[Scenario | None, Effect | None]:
        """The scenario for this call and the effect it has now (bursts counted).

        Precedence: a ``Prefer`` header decides alone. Otherwise, for a poll, the scenario
        the task was created under, if it has an effect on polls; then the first matching
        file scenario. The task's lifecycle always stays the one it was created with.
        Without a ``Prefer`` header, loaded scenarios or a task scenario it finds nothing
        (``(None, None)``), and the engine does not call it then.
        """
        header = request.headers.get("prefer")
        preferences = parse_prefer(header)
        scenario = None
        if "scenario" in preferences:
            scenario = self.book.get(preferences["scenario"])
            if scenario is None:
                wanted = preferences["scenario"]
                message = f"Prefer: unknown scenario {wanted!r}; GET /__mock/scenarios lists them"
                raise Answer(documented(op.error(400), message), violations=["unknown scenario"])
        if "example" in preferences:
            raise Answer(self._example(op, preferences["example"]), notes={"prefer": preferences})
        if "code" in preferences:
            reply = self._preferred_code(op, preferences["code"])
            if reply is not None:
                return scenario, Effect(reply=reply)
        if scenario is not None:
            return scenario, self._use(scenario, operation, token, task)
        own = None
        if task is not None and task.scenario is not None:
            own = self.book.get(task.scenario)
            effect = self._use(own, operation, token, task) if own else None
            if effect is not None:
                return own, effect
        # The task's own scenario says nothing about this call: a file rule may.
        matched = self.book.first_match(operation, request.path, token, request.headers, body)
        if matched is None:
            return own, None
        return matched, self._use(matched, operation, token, task)

    def _use(
        self, scenario: Scenario, operation: str, token: str | None, task: Task | None
    ) -> Effect | None:
        """The scenario's effect on this call, counting it against a burst's ``times``."""
        effect = scenario.effect(operation)
        if effect is None or effect.times is None:
            return effect
        # Bursts count per task for polls of a task, else per token: parallel tests that use
        # their own tokens or tasks never consume each other's burst.
        subject = task.id if task is not None else (token or "")
        key = (scenario.name, operation, subject)
        used = self._counts.get(key, 0)
        if used >= effect.times:
            return None
        self._counts[key] = used + 1
        return effect

    def _preferred_code(self, op: Operation, value: str) -> ErrorReply | None:
        if value.isdigit() and int(value) in op.errors:
            return ErrorReply(int(value))
        if value.isdigit() and int(value) in (200, 201):
            return None
        documented_codes = ", ".join(str(s) for s in op.statuses)
        raise Answer(
            documented(
                op.error(400),
                f"Prefer: code={value} is not documented for {op.operation_id} "
                f"(documented: {documented_codes})",
            ),
            violations=["undocumented Prefer code"],
        )

    def _example(self, op: Operation, name: str) -> Response:
        found = self.contract.named_example(op.operation_id, name)
        if found is None:
            available = ", ".join(self.contract.example_names(op.operation_id)) or "none"
            return documented(
                op.error(400),
                f"Prefer: example={name!r} is not an example of {op.operation_id} "
                f"(available: {available})",
            )
        status, value = found
        return Response.json(status, value)

    def reply(self, op: Operation, reply: ErrorReply) -> Response:
        error = op.error(reply.status)
        body = error.envelope(reply.message, reply.param)
        for key in ("code", "type"):
            if getattr(reply, key) is not None:
                body["error"][key] = getattr(reply, key)
        headers = list(reply.headers)
        if reply.status == 429 and not any(k == "retry-after" for k, _ in headers):
            headers.append(
                ("retry-after", str(reply.retry_after if reply.retry_after is not None else 1))
            )
        return Response.json(reply.status, body, headers)

    def finish(self, response: Response, effect: Effect | None) -> Response:
        """Apply an effect's latency and fault to the response it decided or let through."""
        if effect is None:
            return response
        delay = self._random.uniform(*effect.latency) if effect.latency else 0.0
        fault = effect.fault
        if fault == "timeout":
            return dataclasses.replace(
                response, delay=delay if effect.latency else TIMEOUT_FAULT_SECONDS
            )
        if fault == "malformed_body":
            return dataclasses.replace(
                response, body=response.body[: len(response.body) // 2], delay=delay
            )
        if fault == "wrong_content_type":
            headers = tuple(
                (k, "text/html; charset=utf-8") if k == "content-type" else (k, v)
                for k, v in response.headers
            )
            return dataclasses.replace(response, headers=headers, delay=delay)
        return dataclasses.replace(response, delay=delay, fault=fault)
