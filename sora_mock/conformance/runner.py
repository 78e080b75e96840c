"""Running a Python client through the matrix: in-process or over loopback HTTP, on a
virtual clock, one fresh engine per situation.

Example::

    def my_client(target):
        return my_sdk.generate(target.base_url, target.api_key, target.body)

    report = Harness().check(my_client)
    print(report.to_text())
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sora_mock.conformance.explore import explore
from sora_mock.conformance.outcome import Outcome
from sora_mock.conformance.recording import RecordingEngine, build_engine
from sora_mock.conformance.report import ConformanceReport, SituationResult
from sora_mock.conformance.rules import check
from sora_mock.conformance.run import Run, Settings
from sora_mock.conformance.situations import Situation, catalogue, select
from sora_mock.conformance.subject import Subject
from sora_mock.conformance.variations import Variation
from sora_mock.contract import Contract, Request, Response
from sora_mock.engine import MockConfig, VirtualClock
from sora_mock.errors import UsageError
from sora_mock.inprocess import virtual_sleep

if TYPE_CHECKING:
    import httpx

    from sora_mock.conformance.serving import SlotServer

INPROCESS_URL = "http://sora-mock.test"
Transport = Literal["inprocess", "http"]


class Stopped(BaseException):
    """Raised inside a client to stop it. Not an ``Exception``, so a client's retry loop
    (``except Exception``) does not swallow it."""


class Target:
    """What a client under test is pointed at.

    ``base_url`` and ``api_key`` are what the client should use; ``body`` is a valid create
    body for ``model`` (the model's documented example unless the harness was given one);
    ``video_url`` is the body's first string field whose schema has ``format: uri`` (None
    when it has none), for clients written for a model that takes a video URL. ``http`` is
    a ready ``httpx.Client`` with the base URL (and no token: sending it is the client's
    job).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        situation: str,
        *,
        body: Mapping[str, Any],
        model: str,
        video_url: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.situation = situation
        self.body = dict(body)
        self.model = model
        self.video_url = video_url
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """An ``httpx.Client`` for ``base_url``, closed after the run."""
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=self.base_url, timeout=30)
        return self._http

    def close(self) -> None:
        """Close the httpx client, if one was made."""
        if self._http is not None:
            self._http.close()

    def __repr__(self) -> str:
        return f"Target(base_url={self.base_url!r}, situation={self.situation!r})"


ClientFunction = Callable[[Target], Any]


def token_for(index: int, situation: Situation) -> str:
    """The bearer token handed to the client in ``situation`` (a valid token character set)."""
    return f"sk-conform-{index:02d}-{situation.name.replace('_', '-')}"


class _Guard:
    """Stops a run that exceeds its time limit (client seconds) or request cap."""

    def __init__(
        self, clock: VirtualClock, engine: RecordingEngine, time_limit: float, max_requests: int
    ) -> None:
        self.clock = clock
        self.engine = engine
        self.start = clock.now()
        self.time_limit = time_limit
        self.max_requests = max_requests
        self.reason: str | None = None

    def check(self) -> None:
        if self.reason is None:
            if self.clock.now() - self.start > self.time_limit:
                self.reason = f"still running after {self.time_limit:g} s"
            elif len(self.engine.exchanges) >= self.max_requests:
                self.reason = f"still running after {self.max_requests} requests"
        if self.reason is not None:
            raise Stopped(self.reason)


class Harness:
    """Runs Python clients through the situation matrix and checks the rules.

    ``transport="inprocess"`` routes httpx traffic to the engine in memory;
    ``transport="http"`` serves a real loopback port (for any HTTP library). Both run on
    a virtual clock: the client's ``time.sleep`` / ``asyncio.sleep`` advance it at once.
    ``time_limit`` is in the client's seconds; ``examples`` bounds the hypothesis search.
    ``contract`` (default: the bundled one) is the API served and judged; ``model`` (default:
    its first) is the model the client uses, whose failure codes, timings and task shape the
    situations follow; ``body`` is the create body handed to the client (default: the
    model's documented example).
    """

    def __init__(
        self,
        *,
        transport: Transport = "inprocess",
        min_interval: float = 1.0,
        time_limit: float = 900.0,
        max_requests: int = 5000,
        examples: int = 25,
        seed: int = 0,
        contract: Contract | None = None,
        model: str | None = None,
        body: Mapping[str, Any] | None = None,
        config: MockConfig | None = None,
    ) -> None:
        if transport not in ("inprocess", "http"):
            raise UsageError(f"transport must be 'inprocess' or 'http', not {transport!r}")
        if min_interval < 0 or time_limit <= 0 or max_requests < 1 or examples < 0:
            raise UsageError("min_interval >= 0, time_limit > 0, max_requests >= 1, examples >= 0")
        self.transport = transport
        self.contract = contract or Contract.bundled()
        self.config = config or MockConfig.defaults()
        self.settings = Settings(self.contract, min_interval=min_interval)
        self.time_limit = time_limit
        self.max_requests = max_requests
        self.examples = examples
        self.seed = seed
        self.subject = Subject.of(self.contract, model, body)
        self._server: SlotServer | None = None
        self._catalogue = catalogue(self.contract, self.subject.model.name)
        self._index = {s.name: i for i, s in enumerate(self._catalogue)}

    def situations(self, patterns: Sequence[str] | None = None) -> list[Situation]:
        """The matrix, or the situations whose names match ``patterns`` (globs)."""
        return select(self._catalogue, patterns)

    def check(
        self,
        client: ClientFunction,
        situations: Sequence[str] | Sequence[Situation] | None = None,
        *,
        name: str | None = None,
    ) -> ConformanceReport:
        """Run ``client`` through each situation (default: all) and return the report."""
        chosen = self._chosen(situations)
        started = time.perf_counter()
        with self._serving():
            results = [self.check_situation(client, s) for s in chosen]
        return ConformanceReport(
            client=name or _client_name(client),
            results=results,
            settings=self.describe(),
            wall_seconds=time.perf_counter() - started,
        )

    def check_situation(self, client: ClientFunction, situation: Situation) -> SituationResult:
        """Run ``client`` through one situation and judge the run."""
        with self._serving():
            if situation.explore:
                run, note = explore(
                    self.contract,
                    self.subject.model.name,
                    lambda v: self._run(client, situation, v),
                    lambda r: check(r, self.settings),
                    self.examples,
                )
            else:
                run, note = self._run(client, situation), ""
        return SituationResult(situation, run, check(run, self.settings), note)

    def describe(self) -> dict[str, Any]:
        """The settings a report states."""
        return {
            "mode": f"python ({self.transport}, virtual clock)",
            "model": self.subject.model.name,
            "min_interval": self.settings.min_interval,
            "time_limit": self.time_limit,
            "max_requests": self.max_requests,
            "examples": self.examples,
        }

    def _chosen(self, situations: Sequence[str] | Sequence[Situation] | None) -> list[Situation]:
        if situations is None:
            return self.situations()
        names = [s if isinstance(s, str) else s.name for s in situations]
        return self.situations(names)

    def _run(
        self, client: ClientFunction, situation: Situation, variation: Variation | None = None
    ) -> Run:
        index = self._index.get(situation.name, len(self._index))
        clock = VirtualClock()
        engine = build_engine(
            situation,
            contract=self.contract,
            config=self.config,
            clock=clock,
            speed=1.0,
            seed=self.seed + index,
            variation=variation,
            model=self.subject.model.name,
        )
        guard = _Guard(clock, engine, self.time_limit, self.max_requests)
        token = token_for(index, situation)
        # The client's sleeps and clocks follow the engine's clock; the guard stops it.
        with (
            self._door(engine, guard) as base_url,
            virtual_sleep(clock, clocks=True, guard=guard.check),
        ):
            subject = self.subject
            target = Target(
                base_url,
                token,
                situation.name,
                body=subject.body,
                model=subject.model.name,
                video_url=subject.url,
            )
            try:
                outcome = call(client, target)
            finally:
                target.close()
        return Run(
            situation=situation,
            token=token,
            exchanges=engine.exchanges.snapshot(),
            outcome=outcome,
            speed=1.0,
            started=guard.start,
            ended=clock.now(),
            stopped=guard.reason,
            made=engine.made(),
            variation=variation or engine.variation,
        )

    @contextlib.contextmanager
    def _door(self, engine: RecordingEngine, guard: _Guard) -> Iterator[str]:
        if self.transport == "inprocess":
            from sora_mock.inprocess import library_routes, route

            def answer(request: Request) -> Response:
                guard.check()
                return engine.handle(request)

            # httpx's transports are patched, so a client that builds its own httpx.Client
            # or AsyncClient is served too (sora_mock.mock(via="transport") does the same);
            # requests and aiohttp clients through responses and aioresponses, if installed.
            with route(INPROCESS_URL, answer), library_routes(INPROCESS_URL, answer):
                yield INPROCESS_URL
            return
        assert self._server is not None
        slot = self._server.slots[0]

        def count(_: object) -> None:
            if len(engine.exchanges) >= self.max_requests:
                guard.reason = guard.reason or f"still running after {self.max_requests} requests"
                slot.stop(guard.reason)

        engine.exchanges.on_record = count
        slot.serve(engine)
        yield slot.base_url

    @contextlib.contextmanager
    def _serving(self) -> Iterator[None]:
        if self.transport != "http" or self._server is not None:
            yield
            return
        from sora_mock.conformance.serving import SlotServer

        self._server = SlotServer(1).start()
        try:
            yield
        finally:
            self._server.stop()
            self._server = None


def call(client: ClientFunction, target: Target) -> Outcome:
    """Run ``client`` on ``target`` and turn what it returns or raises into an Outcome.

    An async client (a coroutine function) runs to its end in an event loop of its own.
    """
    try:
        value = client(target)
        if inspect.iscoroutine(value):
            value = asyncio.run(value)
    except Stopped:
        return Outcome("stopped", detail="stopped by the harness")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return Outcome("completed" if code == 0 else "error", detail=f"sys.exit({exc.code!r})")
    except Exception as exc:
        return Outcome.from_exception(exc)
    return Outcome.from_return(value)


def _client_name(client: ClientFunction) -> str:
    qualname = getattr(client, "__qualname__", None)
    if not isinstance(qualname, str):
        return repr(client)
    module = getattr(client, "__module__", None)
    return f"{module}.{qualname}" if module and module != "__main__" else qualname


def check_client(
    client: ClientFunction,
    situations: Sequence[str] | None = None,
    *,
    name: str | None = None,
    **options: Any,
) -> ConformanceReport:
    """Run ``client`` through the matrix and return the report (options as :class:`Harness`).

    Example::

        report = check_client(lambda t: my_sdk.run(t.base_url, t.api_key, t.body))
        assert report.passed, report.to_text()
    """
    return Harness(**options).check(client, situations, name=name)
