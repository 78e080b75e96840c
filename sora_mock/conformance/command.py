"""Running a client in any language: a shell command per situation, over real HTTP.

Each situation gets its own port (and engine) on one server, on a real clock sped up
``speed`` times, and the command runs with ``SORA_BASE_URL``, ``SORA_API_KEY``,
``SORA_MODEL``, ``SORA_REQUEST_BODY`` (a valid create body, as JSON), ``SORA_VIDEO_URL``
(when the body has a URL field: see :class:`~sora_mock.conformance.Target`) and
``SORA_CONFORMANCE_SITUATION`` set, and ``SORA_MAX_WAIT`` (a give-up bound in real seconds:
a quarter of ``time_limit``) unless the environment sets it. Situations run in parallel,
``jobs`` at a time. A command still running after ``time_limit`` real seconds (or after
``max_requests`` requests) is stopped: its process group is terminated.

Example::

    report = CommandHarness("python my_client.py").check()
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sora_mock.conformance.explore import explore
from sora_mock.conformance.outcome import Outcome
from sora_mock.conformance.recording import build_engine
from sora_mock.conformance.report import ConformanceReport, SituationResult
from sora_mock.conformance.rules import check
from sora_mock.conformance.run import Run, Settings
from sora_mock.conformance.runner import token_for
from sora_mock.conformance.serving import Slot, SlotServer
from sora_mock.conformance.situations import Situation, catalogue, select
from sora_mock.conformance.subject import Subject
from sora_mock.conformance.variations import Variation
from sora_mock.contract import Contract
from sora_mock.engine import MockConfig, RealClock
from sora_mock.errors import UsageError

#: Exit codes of ``sh -c`` when the command cannot be found or run.
_CANNOT_RUN = (126, 127)
#: The share of ``time_limit`` offered to the client as its give-up bound (``SORA_MAX_WAIT``),
#: leaving room for the retries and the report that follow giving up.
MAX_WAIT_SHARE = 0.25


@dataclass(frozen=True)
class CommandOptions:
    """How commands are run and judged. Times are real seconds."""

    speed: float = 50.0
    time_limit: float = 120.0
    jobs: int = 8
    min_interval: float = 1.0
    tolerance: float = 0.05
    examples: int = 10
    explore_budget: float = 90.0
    max_requests: int = 5000
    seed: int = 0


class CommandHarness:
    """Runs ``command`` once per situation against a real server and checks the rules.

    ``contract``, ``model`` and ``body`` are as for :class:`~sora_mock.conformance.Harness`.
    """

    def __init__(
        self,
        command: str,
        options: CommandOptions | None = None,
        *,
        contract: Contract | None = None,
        model: str | None = None,
        body: Mapping[str, Any] | None = None,
        config: MockConfig | None = None,
        progress: Callable[[SituationResult], None] | None = None,
    ) -> None:
        if not command.strip():
            raise UsageError("the command to run is empty")
        self.command = command
        self.options = options or CommandOptions()
        if self.options.jobs < 1 or self.options.speed <= 0 or self.options.time_limit <= 0:
            raise UsageError("jobs >= 1, speed > 0 and time_limit > 0 are required")
        self.contract = contract or Contract.bundled()
        self.subject = Subject.of(self.contract, model, body)
        self.config = config or MockConfig.defaults()
        self.progress = progress
        self.settings = Settings(
            self.contract, min_interval=self.options.min_interval, tolerance=self.options.tolerance
        )
        self._catalogue = catalogue(self.contract, self.subject.model.name)
        self._lock = threading.Lock()

    def situations(self, patterns: Sequence[str] | None = None) -> list[Situation]:
        """The matrix, or the situations whose names match ``patterns`` (globs)."""
        return select(self._catalogue, patterns)

    def check(self, patterns: Sequence[str] | None = None) -> ConformanceReport:
        """Run the command through the chosen situations (default: all)."""
        chosen = self.situations(patterns)
        started = time.perf_counter()
        with SlotServer(len(chosen)) as server, ThreadPoolExecutor(self.options.jobs) as pool:
            # Long situations first, so they do not trail at the end.
            order = sorted(range(len(chosen)), key=lambda i: not _long(chosen[i]))
            futures = {i: pool.submit(self._check_one, chosen[i], server.slots[i]) for i in order}
            results = [futures[i].result() for i in range(len(chosen))]
        o = self.options
        report = ConformanceReport(
            client=self.command,
            results=results,
            settings={
                "mode": f"command over HTTP, clock {o.speed:g}x",
                "model": self.subject.model.name,
                "min_interval": o.min_interval,
                "time_limit": o.time_limit,
                "speed": o.speed,
                "jobs": o.jobs,
                "examples": o.examples,
            },
            wall_seconds=time.perf_counter() - started,
        )
        if all(_could_not_run(r.run) for r in results):
            first = results[0].run.outcome
            tail = " ".join(first.text.strip().splitlines()[-1:]) or "no output"
            report.problems.append(
                f"the command could not be run (exit code {first.exit_code}): {tail}"
            )
        return report

    def _check_one(self, situation: Situation, slot: Slot) -> SituationResult:
        if situation.explore:
            run, note = explore(
                self.contract,
                self.subject.model.name,
                lambda v: self._run(situation, slot, v),
                lambda r: check(r, self.settings),
                self.options.examples,
                self.options.explore_budget,
            )
        else:
            run, note = self._run(situation, slot), ""
        result = SituationResult(situation, run, check(run, self.settings), note)
        if self.progress is not None:
            with self._lock:
                self.progress(result)
        return result

    def _run(self, situation: Situation, slot: Slot, variation: Variation | None = None) -> Run:
        o = self.options
        index = next(i for i, s in enumerate(self._catalogue) if s.name == situation.name)
        clock = RealClock(o.speed)
        engine = build_engine(
            situation,
            contract=self.contract,
            config=self.config,
            clock=clock,
            speed=o.speed,
            seed=o.seed + index,
            variation=variation,
            model=self.subject.model.name,
        )
        too_many = threading.Event()
        engine.exchanges.on_record = lambda _: (
            too_many.set() if len(engine.exchanges) >= o.max_requests else None
        )
        token = token_for(index, situation)
        subject = self.subject
        env = {
            **os.environ,
            "SORA_BASE_URL": slot.base_url,
            "SORA_API_KEY": token,
            "SORA_MODEL": subject.model.name,
            "SORA_REQUEST_BODY": json.dumps(subject.body),
            "SORA_CONFORMANCE_SITUATION": situation.name,
        }
        env.setdefault("SORA_MAX_WAIT", f"{o.time_limit * MAX_WAIT_SHARE:g}")
        if subject.url is not None:
            env["SORA_VIDEO_URL"] = subject.url
        slot.serve(engine)
        started = clock.now()
        exit_code, out, err, stopped = _run_command(self.command, env, o.time_limit, too_many)
        slot.stop("this situation's run is over")
        if stopped == "requests":
            stopped = f"still running after {o.max_requests} requests"
        outcome = (
            Outcome("stopped", detail="stopped by the harness", text=f"{out}\n{err}")
            if stopped
            else Outcome.from_command(exit_code, out, err)
        )
        return Run(
            situation=situation,
            token=token,
            exchanges=engine.exchanges.snapshot(),
            outcome=outcome,
            speed=o.speed,
            started=started,
            ended=clock.now(),
            stopped=stopped,
            made=engine.made(),
            variation=variation or engine.variation,
        )


def _run_command(
    command: str, env: dict[str, str], limit: float, too_many: threading.Event
) -> tuple[int, str, str, str | None]:
    """Run ``command`` in its own process group; stop it past ``limit`` s or ``too_many``."""
    process = subprocess.Popen(
        command,
        shell=True,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    deadline = time.monotonic() + limit
    stopped: str | None = None
    while True:
        try:
            out, err = process.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if too_many.is_set():
                stopped = "requests"
            elif time.monotonic() > deadline:
                stopped = f"still running after {limit:g} s"
            if stopped is not None:
                _stop_group(process)
                try:
                    out, err = process.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    # A grandchild that left the group still holds the pipes: stop reading.
                    out, err = "", ""
                break
    return process.returncode, out, err, stopped


def _stop_group(process: subprocess.Popen[Any]) -> None:
    """Terminate the command's own process group, then kill it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue


def _long(situation: Situation) -> bool:
    return situation.never_ends or situation.explore or situation.name == "slow"


def _could_not_run(run: Run) -> bool:
    return not run.exchanges and run.outcome.exit_code in _CANNOT_RUN
