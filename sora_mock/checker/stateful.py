"""A Hypothesis state machine for the task lifecycle, in-process or against any server.

Hypothesis creates tasks of every model of the contract, polls them, lets time pass, sends
invalid requests and bad ids, and reads tasks with a second token, in random orders; the
requests come from the contract's strategies (grouped as the checker groups them,
:mod:`sora_mock.checker.cases`) and every answer is judged
with :mod:`sora_mock.checker.rules`, so the invariants are the checker's: status and
progress only move forward, terminal states never change, a task carries its model's
result iff completed and the failure fields iff failed, ids keep the documented shape, a
task's id, creation time and model never change, and one token never sees another's
tasks. A failure shrinks to the shortest sequence of steps that shows it.

Example::

    from sora_mock.checker.stateful import lifecycle_machine

    # In-process: a fresh mock on a virtual clock for every run; waiting costs nothing.
    TestMockLifecycle = lifecycle_machine().TestCase

    # Any server (creates cost credits on the real API: keep max_tasks small).
    TestLiveLifecycle = lifecycle_machine(
        "https://api.example.com", token=TOKEN, other_token=OTHER, max_tasks=2
    ).TestCase
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from sora_mock.checker.cases import RequestCases, error_code
from sora_mock.checker.rules import (
    Expectation,
    Ledger,
    Probe,
    TaskHistory,
    TaskShape,
    check_probe,
)
from sora_mock.checker.runner import send_probe
from sora_mock.contract import Contract, Request
from sora_mock.contract.strategies import InvalidCreate, TaskIdCase
from sora_mock.engine import Engine, Exchange, MockConfig, VirtualClock
from sora_mock.errors import ContractViolation

__all__ = ["lifecycle_machine"]


def lifecycle_machine(
    base_url: str | None = None,
    *,
    token: str = "sk-sora-mock-machine-1",
    other_token: str | None = "sk-sora-mock-machine-2",
    engine_factory: Callable[[], Engine] | None = None,
    max_tasks: int = 4,
    wait_seconds: float = 2.0,
    request_timeout: float = 30.0,
    contract: Contract | None = None,
) -> type[RuleBasedStateMachine]:
    """A state machine class checking the task lifecycle of one server.

    Args:
        base_url: the server to check; None checks a fresh in-process mock per run.
        token: the bearer token tasks are created with.
        other_token: a second account's token for isolation checks (None skips them).
        engine_factory: builds the in-process engine (default: the mock of ``contract`` on
            a virtual clock), asked through :meth:`Engine.handle <sora_mock.engine.Engine.handle>`.
        max_tasks: tasks one run may create (each may cost credits on a real server).
        wait_seconds: how long one "wait" step sleeps against a real server; in-process,
            a wait moves the virtual clock by 0-300 mock seconds instead.
        request_timeout: seconds per request against a real server.
        contract: the contract whose requests are sent and whose rules judge the answers
            (default: the bundled one).

    Returns:
        A ``RuleBasedStateMachine`` subclass; its ``TestCase`` attribute is a test.
    """
    judged = contract or Contract.bundled()
    cases = RequestCases(judged)
    read = judged.tasks.read
    in_process = base_url is None
    # As the checker: another server may ignore a callback field.
    invalid = cases.invalid(callbacks=in_process)
    waits = st.integers(0, 300).map(float) if in_process else st.just(wait_seconds)

    class TaskLifecycle(RuleBasedStateMachine):
        """Creates, polls and waits on tasks; every answer must keep the contract."""

        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            self.ledger = Ledger()
            self.histories: dict[str, TaskHistory] = {}
            self.created = 0
            self.engine: Engine | None = None
            self.client: httpx.Client | None = None
            if in_process:
                # Straight to the engine: no HTTP client, so thousands of runs stay cheap.
                self.engine = engine_factory() if engine_factory else _default_engine(judged)
            else:
                self.client = httpx.Client(base_url=base_url or "", timeout=request_timeout)

        def teardown(self) -> None:
            if self.client is not None:
                self.client.close()

        # -- steps -------------------------------------------------------------------------

        @precondition(lambda self: self.created < max_tasks)
        @rule(target=tasks, body=cases.valid())
        def create(self, body: dict[str, Any]) -> Any:
            self.created += 1
            body_bytes = json.dumps(body).encode()
            probe = self.send("create valid", "POST", cases.create_path, body_bytes)
            check_probe(self.ledger, probe, Expectation(200, kind="positive"), judged)
            data = probe.json()
            if probe.response is None or probe.response.status != 200:
                return multiple()
            task_id = str(TaskShape.of(judged).value(data, "id")) if isinstance(data, dict) else "?"
            history = self.histories.setdefault(task_id, TaskHistory(task_id, judged))
            history.observe(self.ledger, probe)
            return task_id

        @rule(task_id=tasks)
        def poll(self, task_id: str) -> None:
            probe = self.send(f"poll {task_id}", "GET", cases.task_path(task_id))
            check_probe(self.ledger, probe, Expectation(200), judged)
            if probe.response is not None and probe.response.status == 200:
                self.histories[task_id].observe(self.ledger, probe)

        @precondition(lambda self: other_token is not None)
        @rule(task_id=tasks)
        def poll_as_another_token(self, task_id: str) -> None:
            probe = self.send(
                "task of another token", "GET", cases.task_path(task_id), token=other_token
            )
            expected = Expectation(403, error_code(read, 403), kind="isolation")
            check_probe(self.ledger, probe, expected, judged)

        @rule(case=st.one_of(cases.id_groups()))
        def poll_bad_id(self, case: TaskIdCase) -> None:
            probe = self.send(f"task id {case.kind}", "GET", cases.task_path(case.task_id))
            expected = Expectation(case.status, case.code, case.param, kind="negative")
            check_probe(self.ledger, probe, expected, judged)

        @rule(case=invalid)
        def create_invalid(self, case: InvalidCreate) -> None:
            probe = self.send(
                cases.invalid_label(case),
                "POST",
                cases.create_path,
                case.body,
                case.content_type,
            )
            expected = Expectation(case.status, case.code, case.param, kind="negative")
            check_probe(self.ledger, probe, expected, judged)

        @rule(seconds=waits)
        def wait(self, seconds: float) -> None:
            clock = self.engine.clock if self.engine is not None else None
            if isinstance(clock, VirtualClock):
                clock.advance(seconds)
            else:
                time.sleep(seconds)

        # -- the invariant -----------------------------------------------------------------

        @invariant()
        def every_rule_holds(self) -> None:
            failures = self.ledger.failures
            if failures:
                raise ContractViolation(
                    f"{len(failures)} contract rule(s) broken",
                    [f"{f.rule}: {f.message} ({_where(f.probe)})" for f in failures],
                )

        # -- HTTP --------------------------------------------------------------------------

        def send(
            self,
            label: str,
            method: str,
            path: str,
            body: bytes | None = None,
            content_type: str = "application/json",
            token: str | None = None,
        ) -> Probe:
            headers = {"authorization": f"Bearer {token or own_token}"}
            if body is not None:
                headers["content-type"] = content_type
            plain = Request.build(method, path, headers=headers, body=body or b"")
            if self.engine is not None:
                # Through handle, the entry point an engine_factory's subclass may override.
                return Probe.answered(label, Exchange(plain, self.engine.handle(plain)))
            assert self.client is not None
            return send_probe(self.client, label, plain, path)

    own_token = token
    TaskLifecycle.__name__ = TaskLifecycle.__qualname__ = "TaskLifecycle"
    return TaskLifecycle


def _default_engine(contract: Contract) -> Engine:
    return Engine(contract=contract, config=_default_config(), clock=VirtualClock())


@functools.cache
def _default_config() -> MockConfig:
    # Loading the YAML defaults once saves a parse per generated run.
    return MockConfig.defaults()


def _where(probe: Probe | None) -> str:
    if probe is None:
        return "no request"
    status = probe.response.status if probe.response is not None else probe.error
    return f"{probe.label}: {probe.request.method} {probe.request.path} -> {status}"
