"""The sora-mock pytest plugin (entry point ``pytest11``: ``sora_mock``).

Fixtures: ``sora_api`` (in-process mock for httpx, requests and aiohttp, fresh per test),
``sora_server`` (a real uvicorn server, one per session or xdist worker, a fresh mock
behind it per test),
``sora_spec`` (the contract), and the override fixtures ``sora_config`` and ``sora_seed``.
Marker: ``@pytest.mark.sora(scenario=, config=, clock=, seed=, spec=)``. Options:
``--sora-spec`` (or the ini key ``sora_spec``; default ``SORA_MOCK_SPEC``, else the bundled
documents), ``--sora-config``, ``--sora-seed``, ``--sora-base-url``,
``--sora-coverage`` (``off|summary|full``; ini ``sora_coverage``), ``--sora-coverage-report``,
``--sora-coverage-fail-under``; ini keys ``sora_api_url`` and ``sora_guard`` (calls to the
API's host that no mock answers fail the test). See docs/pytest-plugin.md.

Loading this module imports only pytest and the standard library; everything heavy is
imported inside the fixtures, so an unrelated test run pays nothing for it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sora_mock.pytest_plugin import _coverage

if TYPE_CHECKING:
    from sora_mock.contract import Contract
    from sora_mock.inprocess import MockAPI
    from sora_mock.inprocess.guard import Guard
    from sora_mock.pytest_plugin._coverage import CoverageReport
    from sora_mock.pytest_plugin._support import LiveAPI, Settings, Switch
    from sora_mock.server import BackgroundServer

#: Kept equal to ``inprocess.DEFAULT_BASE_URL`` (a test checks); importing it would be heavy.
DEFAULT_BASE_URL = "https://api.evolink.ai"
MARKER = (
    "sora(scenario=None, config=None, clock=None, seed=None, spec=None): settings of the "
    "sora_api and sora_server mocks for this test: a scenario name, config overrides (mapping) "
    "or a config file, a clock (or the virtual clock's start time), a seed, and the spec "
    "(a path, a list of paths or a Contract) instead of the session's"
)
#: What the terminal summary shows of contract coverage (``--sora-coverage``).
COVERAGE_MODES = ("off", "summary", "full")


@dataclass
class _State:
    """The session's plugin state, kept in ``config.stash``."""

    coverage: _coverage.ContractCoverage = field(default_factory=_coverage.ContractCoverage)
    report: CoverageReport | None = None
    gate_failed: bool = False
    #: What refuses calls to the API's host that no mock answers (None: switched off).
    guard: Guard | None = None
    #: The spec files of the session (``--sora-spec``, else the ``sora_spec`` ini key; None:
    #: ``SORA_MOCK_SPEC`` or the bundled documents), and their contract once loaded.
    spec: tuple[str, ...] | None = None
    contract: Contract | None = None

    def load_contract(self) -> Contract:
        """The session's contract (loaded on first use)."""
        if self.contract is None:
            from sora_mock.inprocess import load_contract

            self.contract = load_contract(self.spec)
        return self.contract


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sora", "sora-mock")
    group.addoption(
        "--sora-spec",
        action="append",
        metavar="FILE",
        help="an OpenAPI document the sora fixtures mock (repeatable: merged by model; "
        "'bundled' names the shipped ones). Default: the sora_spec ini key, else "
        "$SORA_MOCK_SPEC, else the bundled documents",
    )
    group.addoption(
        "--sora-config",
        metavar="FILE",
        help="mock configuration YAML merged over sora-mock's defaults for every sora fixture",
    )
    group.addoption(
        "--sora-seed",
        type=int,
        metavar="N",
        help="seed of the mocks' task ids and names (default 0, so runs repeat exactly)",
    )
    group.addoption(
        "--sora-base-url",
        metavar="URL",
        help="point sora_api and sora_server at this live server instead of the mock "
        "(tests that need the mock's clock, calls or scenarios are skipped)",
    )
    group.addoption(
        "--sora-coverage",
        choices=COVERAGE_MODES,
        metavar="off|summary|full",
        help="contract coverage in the terminal summary: off, summary (totals, the default; "
        "or the sora_coverage ini key) or full (every item exercised and never exercised)",
    )
    group.addoption(
        "--sora-coverage-report",
        metavar="FILE",
        help="write the contract coverage of this session as JSON to FILE",
    )
    group.addoption(
        "--sora-coverage-fail-under",
        type=float,
        metavar="PERCENT",
        help="fail the session when contract coverage is below PERCENT",
    )
    parser.addini(
        "sora_spec",
        "OpenAPI documents the sora fixtures mock, one a line, relative to the ini file "
        "('bundled' names the shipped ones)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "sora_coverage",
        "contract coverage in the terminal summary: off, summary or full",
        default="summary",
    )
    parser.addini(
        "sora_api_url",
        "base URL the in-process sora_api mock answers at",
        default=DEFAULT_BASE_URL,
    )
    parser.addini(
        "sora_guard",
        "fail a test's httpx, requests or aiohttp call to sora_api_url's host that no sora "
        "mock answers, instead of letting it reach the network (default true)",
        type="bool",
        default=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    threshold = config.getoption("sora_coverage_fail_under")
    if threshold is not None and not 0 <= threshold <= 100:
        raise pytest.UsageError(f"--sora-coverage-fail-under must be 0-100, got {threshold}")
    _coverage_mode(config)
    path = config.getoption("sora_config")
    if path is not None and not Path(path).is_file():
        raise pytest.UsageError(f"--sora-config: no such file: {path}")
    state = _State(spec=_spec_paths(config), guard=_guard(config))
    config.stash[_STATE] = state
    _coverage.push(state.coverage)


def _coverage_mode(config: pytest.Config) -> str:
    """``--sora-coverage``, else the ``sora_coverage`` ini key (checked: a usage error)."""
    mode: str | None = config.getoption("sora_coverage")
    if mode is None:
        mode = str(config.getini("sora_coverage")).strip()
        if mode not in COVERAGE_MODES:
            raise pytest.UsageError(
                f"the sora_coverage ini key must be one of {', '.join(COVERAGE_MODES)}, "
                f"got {mode!r}"
            )
    return mode


def _spec_paths(config: pytest.Config) -> tuple[str, ...] | None:
    """``--sora-spec`` (relative to where pytest ran), else the ini key (relative to the ini
    file), else None; ``bundled`` stays a name."""
    given: list[str] | None = config.getoption("sora_spec")
    where = "--sora-spec"
    if given:
        base = config.invocation_params.dir
    else:
        given = [str(line) for line in config.getini("sora_spec")]
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        where = "the sora_spec ini key"
    if not given:
        return None
    paths = tuple(name if name == "bundled" else str(base / name) for name in given)
    for path in paths:
        if path != "bundled" and not Path(path).is_file():
            raise pytest.UsageError(f"{where}: no such file: {path}")
    return paths


def _guard(config: pytest.Config) -> Guard | None:
    """The session's guard, unless ``sora_guard`` is off or a live run targets the API's host."""
    if not config.getini("sora_guard"):
        return None
    from sora_mock.inprocess.guard import Guard

    hint = (
        "use the sora_api fixture (answers in-process), sora_server (point the client at "
        "sora_server.base_url), or --sora-base-url URL for a live run; sora_guard = false in "
        "the ini file lets such calls out"
    )
    guard = Guard(str(config.getini("sora_api_url")), hint)
    live = config.getoption("sora_base_url")
    return None if live and guard.covers(live) else guard


@contextlib.contextmanager
def _guarded(item: pytest.Item) -> Iterator[None]:
    """One phase of a test under the session's guard; a refused call the test swallowed
    fails it afterwards."""
    state = item.config.stash.get(_STATE, None)
    guard = state.guard if state is not None else None
    if guard is None:
        yield
        return
    with guard.watching():
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _count_conformance_test(item)
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    with _guarded(item):
        return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        _coverage.pop(state.coverage)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sora_spec(pytestconfig: pytest.Config) -> Contract:
    """The contract the sora fixtures mock: ``--sora-spec``, the ``sora_spec`` ini key,
    ``SORA_MOCK_SPEC`` or the bundled documents (loaded once per process)."""
    return pytestconfig.stash[_STATE].load_contract()


@pytest.fixture
def sora_config() -> dict[str, Any]:
    """Config overrides for this test's mocks; override this fixture to change them."""
    return {}


@pytest.fixture
def sora_seed(pytestconfig: pytest.Config) -> int | None:
    """The mocks' seed: ``--sora-seed`` or 0; override this fixture to change it."""
    seed: int | None = pytestconfig.getoption("sora_seed")
    return 0 if seed is None else seed


@pytest.fixture
def _sora_settings(
    request: pytest.FixtureRequest, sora_config: dict[str, Any], sora_seed: int | None
) -> Settings:
    from sora_mock.pytest_plugin._support import marker_arguments, resolve_settings

    marks = list(reversed(list(request.node.iter_markers("sora"))))
    return resolve_settings(
        contract=request.config.stash[_STATE].load_contract(),
        config_file=request.config.getoption("sora_config"),
        overrides=sora_config,
        seed=sora_seed,
        marker=marker_arguments(marks),
    )


@pytest.fixture
def sora_api(request: pytest.FixtureRequest, _sora_settings: Settings) -> Iterator[Any]:
    """A fresh in-process mock answering httpx, requests and aiohttp calls to the API's
    base URL.

    Yields a :class:`~sora_mock.inprocess.HttpxMock` on its default doors (httpx's transports
    patched for the base URL; ``responses`` and ``aioresponses`` where installed); other
    hosts are left to the test's own mocks, the mock's ``router``, ``responses`` and
    ``aioresponses``, or the network.
    """
    live = _live(request, _sora_settings)
    if live is not None:
        yield live
        return
    from sora_mock.inprocess import HttpxMock

    api = HttpxMock(
        spec=_sora_settings.contract,
        config=_sora_settings.config,
        seed=_sora_settings.seed,
        clock=_sora_settings.clock,
        scenario=_sora_settings.scenario,
        base_url=str(request.config.getini("sora_api_url")),
    )
    with api:
        yield api


@pytest.fixture(scope="session")
def _sora_server_door(
    pytestconfig: pytest.Config,
) -> Iterator[tuple[BackgroundServer, Switch] | None]:
    if pytestconfig.getoption("sora_base_url"):
        yield None
        return
    from sora_mock.engine import Engine, VirtualClock
    from sora_mock.pytest_plugin._support import Switch
    from sora_mock.server import BackgroundServer

    switch = Switch()
    contract = pytestconfig.stash[_STATE].load_contract()
    engine = Engine(contract=contract, clock=VirtualClock())
    with BackgroundServer(engine, handler=switch) as server:
        switch.app = server.app
        yield server, switch


@pytest.fixture
def sora_server(
    request: pytest.FixtureRequest,
    _sora_settings: Settings,
    _sora_server_door: tuple[BackgroundServer, Switch] | None,
) -> Iterator[Any]:
    """A real HTTP server (uvicorn, loopback, free port) with a fresh mock for this test.

    Yields a :class:`~sora_mock.inprocess.MockAPI` whose ``base_url`` is the server's.
    """
    live = _live(request, _sora_settings)
    if live is not None or _sora_server_door is None:
        yield live
        return
    server, switch = _sora_server_door
    api: MockAPI = _sora_settings.build(server.base_url)
    switch.plug(api)
    try:
        yield api
    finally:
        switch.unplug()
    api.raise_errors()


def _live(request: pytest.FixtureRequest, settings: Settings) -> LiveAPI | None:
    url = request.config.getoption("sora_base_url")
    if not url:
        return None
    from sora_mock.pytest_plugin._support import LiveAPI

    if settings.scenario is not None:
        pytest.skip(f"scenario {settings.scenario!r} needs the mock; --sora-base-url is set")
    return LiveAPI(url)


# -- contract coverage ---------------------------------------------------------------------


def _count_conformance_test(item: pytest.Item) -> None:
    """Note each conformance test, whose traffic coverage cannot see."""
    if "sora_situation" in getattr(item, "fixturenames", ()):
        state = item.config.stash.get(_STATE, None)
        if state is not None:
            state.coverage.add_conformance_test()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports for everyone
        workeroutput["sora_coverage"] = json.dumps(state.coverage.to_json())
        return
    report_path = config.getoption("sora_coverage_report")
    threshold = config.getoption("sora_coverage_fail_under")
    if not state.coverage.used and report_path is None and threshold is None:
        return
    state.report = state.coverage.report(_coverage.documented(state.load_contract()))
    if report_path:
        Path(report_path).write_text(json.dumps(state.report.to_json(), indent=2) + "\n")
    if threshold is not None and state.report.percent < threshold:
        state.gate_failed = True
        if session.exitstatus == pytest.ExitCode.OK:  # keep a worse status (interrupted...)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: add each worker's coverage to the session's."""
    state = node.config.stash.get(_STATE, None)
    data = getattr(node, "workeroutput", {}).get("sora_coverage")
    if state is not None and data:
        state.coverage.merge(json.loads(data))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.report is None:
        return
    mode = _coverage_mode(config)
    if mode != "off":
        terminalreporter.write_sep("-", "sora-mock contract coverage")
        lines = state.report.lines() if mode == "full" else state.report.summary_lines()
        for line in lines:
            terminalreporter.write_line(line)
    report_path = config.getoption("sora_coverage_report")
    if report_path:
        terminalreporter.write_line(f"JSON report written to {report_path}")
    threshold = config.getoption("sora_coverage_fail_under")
    if state.gate_failed:
        terminalreporter.write_line(
            f"FAIL Required sora-mock contract coverage of {threshold:g}% not reached: "
            f"{state.report.percent:.1f}%",
            red=True,
            bold=True,
        )
    elif threshold is not None:
        terminalreporter.write_line(
            f"Required sora-mock contract coverage of {threshold:g}% reached: "
            f"{state.report.percent:.1f}%",
            green=True,
        )
