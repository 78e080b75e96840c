"""The in-process handle: one engine on a virtual clock, every call it answered, and checks.

A :class:`MockAPI` is what a test holds. The doors (:mod:`sora_mock.inprocess.httpx_door`'s respx
router, transport patch and ``MockTransport``, the pytest plugin's server) pass each request to
:meth:`MockAPI.handle`, which adds the chosen scenario, asks the engine, and records the
exchange. All behaviour stays in the engine; this module only observes and steers it.

Example::

    api = MockAPI(seed=1)
    response = api.handle(Request.build("POST", "/v1/videos/generations", ...))
    api.run_until_idle()          # every task reaches its terminal state
    api.assert_polls(3)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sora_mock.contract import BUNDLED, Contract, Request, Response
from sora_mock.engine import (
    AdjustableClock,
    Clock,
    Engine,
    Journal,
    MockConfig,
    Recorder,
    Task,
    VirtualClock,
)
from sora_mock.errors import UsageError
from sora_mock.inprocess import assertions
from sora_mock.inprocess._listeners import listeners
from sora_mock.inprocess.calls import Call, Calls, TaskState

if TYPE_CHECKING:
    from sora_mock.inprocess.httpx_route import SoraTransport

#: The API's production base URL (the spec's ``servers[0]``): what in-process mocks answer.
DEFAULT_BASE_URL = "https://api.evolink.ai"

#: The environment variable naming the spec files used where none is given, separated by
#: ``os.pathsep`` (``bundled`` names the shipped documents).
SPEC_VARIABLE = "SORA_MOCK_SPEC"

ConfigLike = MockConfig | Mapping[str, Any] | str | os.PathLike[str] | None
ClockLike = Clock | float | None
#: A contract, the path of one OpenAPI document, or several (merged); None for the default.
SpecLike = Contract | str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


class MockAPI:
    """The mock in the test's hands: engine, virtual clock, recorded calls and assertions.

    Args:
        config: a :class:`MockConfig`, a mapping of overrides merged over the defaults, or
            the path of a YAML configuration file.
        seed: makes task ids and drawn values (names, links) reproducible.
        clock: a :class:`Clock`; a number starts a :class:`VirtualClock` at that unix time;
            the default is a :class:`VirtualClock` at the vendor's example time.
        scenario: sent as ``Prefer: scenario=NAME`` on every request that names none.
        spec: the contract to serve: a :class:`Contract`, or the path of an OpenAPI document
            or a list of them (merged; ``"bundled"`` names the shipped documents). The
            default is :func:`default_spec`: ``SORA_MOCK_SPEC``, else the bundled documents.
        base_url: where clients reach this mock (links in responses point here).
        engine: an engine to drive instead of building one from the arguments above.
    """

    def __init__(
        self,
        *,
        config: ConfigLike = None,
        seed: int | None = None,
        clock: ClockLike = None,
        scenario: str | None = None,
        spec: SpecLike = None,
        base_url: str = DEFAULT_BASE_URL,
        engine: Engine | None = None,
    ) -> None:
        if engine is None:
            contract = load_contract(spec)
            engine = Engine(
                contract=contract,
                config=load_config(config, contract=contract),
                clock=make_clock(clock),
                seed=seed,
            )
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        #: Exceptions raised while answering in another thread (the server door), kept so
        #: the test that caused them can raise them again (see :meth:`raise_errors`).
        self.errors: list[BaseException] = []
        self._calls = Recorder(on_record=self._tell_listeners)
        self._lock = threading.RLock()
        self._scenario: str | None = None
        self.scenario = scenario
        for listener in listeners():
            listener.mock_created(self)

    # -- the door's entry point ----------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` through the engine and record the exchange."""
        return self._calls.answer(self.engine.exchange, self._with_scenario(request)).response

    def _tell_listeners(self, call: Call) -> None:
        for listener in listeners():
            listener.call_answered(self, call)

    def transport(self) -> SoraTransport[MockAPI]:
        """An ``httpx.MockTransport`` answering from this mock (for injected transports)."""
        from sora_mock.inprocess.httpx_route import SoraTransport

        return SoraTransport(self)

    # -- observation ---------------------------------------------------------------------

    @property
    def contract(self) -> Contract:
        """The contract the engine serves."""
        return self.engine.contract

    @property
    def clock(self) -> Clock:
        """The engine's clock."""
        return self.engine.clock

    @property
    def calls(self) -> Calls:
        """Every call answered since the start or the last :meth:`reset`, oldest first."""
        return Calls(self._calls.snapshot())

    @property
    def journal(self) -> Journal:
        """The engine's own request journal."""
        return self.engine.journal

    @property
    def tasks(self) -> list[TaskState]:
        """Every task the mock holds, oldest first, as it is at the current mock time."""
        with self._lock, self.engine.lock:
            now = self.clock.now()
            tasks = sorted(self.engine.store, key=lambda t: (t.created_at, t.id))
            return [self._state(task, now) for task in tasks]

    def task(self, task_id: str) -> TaskState:
        """One task by id; KeyError naming the known ids when there is no such task."""
        tasks = self.tasks
        for state in tasks:
            if state.id == task_id:
                return state
        known = ", ".join(t.id for t in tasks) or "none"
        raise KeyError(f"no task {task_id!r} (tasks: {known})")

    def _state(self, task: Task, now: float) -> TaskState:
        seen = task.shown(now)
        return TaskState(
            id=task.id,
            status=seen.status,
            progress=seen.progress,
            scenario=task.scenario,
            created_at=task.created_at,
            ends_at=(
                task.ended_at
                if task.ended_at is not None
                else task.created_at + task.plan.seconds_to_end
            ),
            polls=task.polls,
            body=self.engine.render(task, seen, now),
        )

    # -- the clock -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The current mock time (unix seconds)."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; return the new mock time."""
        return self._adjustable("advance()").advance(seconds)

    def sleep(self, seconds: float) -> None:
        """A drop-in for ``time.sleep`` to inject into a client: advances the clock."""
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """A drop-in for ``asyncio.sleep`` to inject into an async client."""
        self.advance(seconds)

    def run_until_idle(self) -> float:
        """Advance the clock until every task has ended; return the new mock time.

        Only time is moved: a task that also waits for status reads (``pending_polls``,
        ``processing_polls``) ends at its next reads once this returns, and a task that never
        finishes (``processing_seconds: null``) stays processing.
        """
        clock = self._adjustable("run_until_idle()")
        with self._lock, self.engine.lock:
            now = target = clock.now()
            for task in self.engine.store:
                if task.peek(now).terminal:
                    continue
                end = task.created_at + task.plan.seconds_to_end
                if math.isfinite(end):
                    target = max(target, end)
            return clock.set(target) if target > now else now

    def deliver_callbacks(self) -> int:
        """POST every task callback due now (``callback_url``), with httpx; return how many.

        In-process nothing runs in the background, so call this after moving the clock.
        Failed attempts are retried 1, 2 and 4 mock seconds later, at later calls; every
        attempt is in the journal. A receiver can be a respx route of the test.
        """
        import httpx

        from sora_mock.inprocess._callbacks import deliver_due

        with httpx.Client(trust_env=False) as client:
            return deliver_due(self.engine, client)

    def virtual_sleep(
        self, *, clocks: bool = False
    ) -> contextlib.AbstractContextManager[AdjustableClock]:
        """Within the block, ``time.sleep``/``asyncio.sleep`` in this thread move the clock.

        With ``clocks``, ``time.monotonic``/``perf_counter``/``time`` in this thread read it
        too. See :mod:`sora_mock.inprocess.sleeps` for what is patched and the trade-off.
        """
        from sora_mock.inprocess.sleeps import virtual_sleep

        return virtual_sleep(self._adjustable("virtual_sleep()"), clocks=clocks)

    def _adjustable(self, what: str) -> AdjustableClock:
        clock = self.clock
        if not isinstance(clock, AdjustableClock):
            raise UsageError(f"{what} needs a clock that can move forward, not {clock!r}")
        return clock

    # -- scenarios -----------------------------------------------------------------------

    @property
    def scenarios(self) -> tuple[str, ...]:
        """The scenario names the engine knows (empty when it has no scenarios)."""
        names = getattr(self.engine, "scenario_names", None)
        return tuple(names()) if callable(names) else ()

    @property
    def scenario(self) -> str | None:
        """The scenario requests get unless they name one (``Prefer: scenario=NAME``)."""
        return self._scenario

    @scenario.setter
    def scenario(self, name: str | None) -> None:
        known = self.scenarios
        if name is not None and known and name not in known:
            raise UsageError(f"unknown scenario {name!r}; known: {', '.join(sorted(known))}")
        self._scenario = name

    @contextlib.contextmanager
    def use_scenario(self, name: str | None) -> Iterator[MockAPI]:
        """Within the block, requests get scenario ``name``; the previous choice returns after."""
        previous = self._scenario
        self.scenario = name
        try:
            yield self
        finally:
            self._scenario = previous

    def _with_scenario(self, request: Request) -> Request:
        if self._scenario is None:
            return request
        prefer = request.headers.get("prefer", "")
        if "scenario=" in prefer.lower():
            return request  # the client chose one itself
        value = f"{prefer}, scenario={self._scenario}" if prefer else f"scenario={self._scenario}"
        return dataclasses.replace(request, headers={**request.headers, "prefer": value})

    # -- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every task, call and scenario choice; the clock keeps its time."""
        with self._lock:
            self.engine.reset()
            self._calls.clear()
            self._scenario = None
            self.errors.clear()

    def raise_errors(self) -> None:
        """Raise the first exception kept from another thread, if any."""
        if self.errors:
            error = self.errors[0]
            self.errors.clear()
            raise error

    # -- assertions ----------------------------------------------------------------------

    def assert_all_requests_valid(self) -> None:
        """Fail, listing each request and field, unless every request keeps the contract."""
        assertions.assert_requests_valid(
            self.calls,
            self.contract,
            allow_loopback=self.engine.config.allow_loopback_callbacks,
            allow_ports=self.engine.config.allow_callback_ports,
        )

    def assert_polls(self, count: int, task_id: str | None = None) -> None:
        """Fail unless the client polled exactly ``count`` times (one task, or all)."""
        assertions.assert_polls(self.calls, count, task_id)

    def assert_poll_interval(self, at_least: float, task_id: str | None = None) -> None:
        """Fail if any task was polled again sooner than ``at_least`` mock seconds."""
        assertions.assert_poll_interval(self.calls, at_least, task_id)

    def assert_scenario_reached(self, name: str) -> None:
        """Fail unless some request was answered under scenario ``name``."""
        assertions.assert_scenario_reached(self.calls, name, self.scenarios)


def load_config(
    config: ConfigLike, *overrides: Mapping[str, Any] | None, contract: Contract | None = None
) -> MockConfig:
    """A :class:`MockConfig` from ``config`` (config, overrides mapping or file path); its
    scenarios are checked against ``contract`` (default: the bundled one)."""
    if isinstance(config, MockConfig):
        base = config
    elif isinstance(config, Mapping):
        base = _defaults().with_overrides(config, contract)
    elif config is None:
        base = _defaults()
    elif isinstance(config, str | os.PathLike):
        base = MockConfig.load(os.fspath(config), contract=contract)
    else:
        raise UsageError(f"config must be a MockConfig, a mapping or a path, not {config!r}")
    for layer in overrides:
        if layer:
            base = base.with_overrides(layer, contract)
    return base


@functools.cache
def _defaults() -> MockConfig:
    # Frozen, so one copy serves every mock; loading it costs a YAML parse and a schema check.
    return MockConfig.defaults()


def default_spec() -> tuple[str, ...]:
    """The spec files used where none is given: those ``SORA_MOCK_SPEC`` names (separated
    by ``os.pathsep``), else the bundled documents (``("bundled",)``)."""
    named = os.environ.get(SPEC_VARIABLE, "")
    paths = tuple(part for part in named.split(os.pathsep) if part.strip())
    return paths or (BUNDLED,)


def load_contract(spec: SpecLike = None) -> Contract:
    """The contract ``spec`` names: itself, the OpenAPI document(s) at a path or a list of
    paths (merged; ``"bundled"`` names the shipped ones), or, for None, :func:`default_spec`.

    A file is read again only when it changes, so many mocks of one spec share one
    contract. A broken document raises :class:`~sora_mock.errors.SpecError` with its file,
    line and column.
    """
    if isinstance(spec, Contract):
        return spec
    if spec is None:
        paths: Sequence[str | os.PathLike[str]] = default_spec()
    elif isinstance(spec, str | os.PathLike):
        paths = (spec,)
    elif isinstance(spec, Sequence) and all(isinstance(p, str | os.PathLike) for p in spec):
        paths = spec
    else:
        raise UsageError(f"spec must be a Contract, a path or a list of paths, not {spec!r}")
    if not paths:
        raise UsageError("spec names no document: give a path, or 'bundled'")
    names = [os.fspath(path) for path in paths]
    if names == [BUNDLED]:
        return Contract.bundled()
    return _load_contract(tuple(_SpecFile.of(name) for name in names))


@dataclasses.dataclass(frozen=True)
class _SpecFile:
    """A spec path as given, with what tells another file or a changed one apart."""

    path: str
    absolute: str
    size: int = 0
    mtime_ns: int = 0

    @classmethod
    def of(cls, path: str) -> _SpecFile:
        if path == BUNDLED:
            return cls(path, path)
        try:
            stat = Path(path).stat()
        except OSError:
            return cls(path, os.path.abspath(path), -1, -1)  # Contract.load says what is wrong
        return cls(path, os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load_contract(files: tuple[_SpecFile, ...]) -> Contract:
    return Contract.load([file.path for file in files])


def make_clock(clock: ClockLike) -> Clock:
    """The clock ``clock`` names: itself, a VirtualClock starting at a number, or a new one."""
    if clock is None:
        return VirtualClock()
    if isinstance(clock, bool):
        raise UsageError(f"clock must be a Clock or a start time, not {clock!r}")
    if isinstance(clock, int | float):
        return VirtualClock(float(clock))
    if isinstance(clock, Clock):
        return clock
    raise UsageError(f"clock must be a Clock or a start time, not {clock!r}")
