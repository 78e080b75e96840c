"""Contract coverage: which documented parts of the API a test session exercised.

While a :class:`ContractCoverage` is pushed (the pytest plugin pushes one per session), every
in-process :class:`~sora_mock.inprocess.MockAPI` reports each answered call to the innermost
one, through the in-process layer's listener hook. At the end,
:func:`documented` lists what the contract documents (operations, each operation's status
codes, the task states, every model's failure codes, the engine's scenarios) and
:meth:`ContractCoverage.report` compares: exercised, never exercised, and the total share.

This module imports only the standard library at load time, so the plugin stays light.

Example::

    data = ContractCoverage()
    data.record(operation=contract.tasks.read.operation_id, status=200, task_status="completed")
    report = data.report(documented(contract))
    report.percent  # covered documented items / all documented items * 100
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sora_mock.contract import Contract
    from sora_mock.inprocess import Call, MockAPI

CATEGORIES = ("operations", "status codes", "task states", "failure codes", "scenarios")
#: The states every task goes through (the template's built-in ``status`` value).
TASK_STATES = ("pending", "processing", "completed", "failed")
_sinks: list[ContractCoverage] = []
_sinks_lock = threading.Lock()


class ContractCoverage:
    """Counts of what a session exercised, per category. Thread-safe; mergeable as JSON."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {name: Counter() for name in CATEGORIES}
        self.outside = 0  # requests answered outside the contract (404/405, mock routes)
        self.known_scenarios: set[str] = set()
        #: Conformance tests run (``conformance_tests()``): their engines are their own, so
        #: their traffic is not counted, and the summary says so.
        self.conformance_tests = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> bool:
        """True once any request or conformance test was recorded."""
        return self.outside > 0 or self.conformance_tests > 0 or any(self.counts.values())

    def record(
        self,
        *,
        operation: str | None,
        status: int,
        task_status: str | None = None,
        failure_code: str | None = None,
        scenario: str | None = None,
    ) -> None:
        """Count one answered request."""
        with self._lock:
            if operation is None or operation == "mock":
                self.outside += 1
                return
            self.counts["operations"][operation] += 1
            self.counts["status codes"][f"{operation} {status}"] += 1
            if task_status:
                self.counts["task states"][task_status] += 1
            if failure_code:
                self.counts["failure codes"][failure_code] += 1
            if scenario:
                self.counts["scenarios"][scenario] += 1

    def add_scenarios(self, names: Iterable[str]) -> None:
        """Note scenarios a mock offered, so the report can list those never used."""
        with self._lock:
            self.known_scenarios.update(names)

    def add_conformance_test(self) -> None:
        """Note one conformance test run (not counted: see :attr:`conformance_tests`)."""
        with self._lock:
            self.conformance_tests += 1

    def to_json(self) -> dict[str, Any]:
        """Plain data (for xdist's ``workeroutput`` or a file)."""
        with self._lock:
            return {
                "counts": {name: dict(counter) for name, counter in self.counts.items()},
                "outside": self.outside,
                "known_scenarios": sorted(self.known_scenarios),
                "conformance_tests": self.conformance_tests,
            }

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add counts produced by :meth:`to_json` elsewhere (another xdist worker)."""
        with self._lock:
            for name, counts in data.get("counts", {}).items():
                self.counts.setdefault(name, Counter()).update(counts)
            self.outside += int(data.get("outside", 0))
            self.known_scenarios.update(data.get("known_scenarios", ()))
            self.conformance_tests += int(data.get("conformance_tests", 0))

    def report(self, documented: Mapping[str, Iterable[str]]) -> CoverageReport:
        """Compare what was exercised with what is ``documented`` (see :func:`documented`)."""
        with self._lock:
            rows = []
            for name in CATEGORIES:
                listed = tuple(documented.get(name, ()))
                if name == "scenarios":
                    listed = tuple(sorted(set(listed) | self.known_scenarios))
                rows.append(
                    CoverageRow(category=name, documented=listed, exercised=dict(self.counts[name]))
                )
            return CoverageReport(
                rows=tuple(rows), outside=self.outside, conformance_tests=self.conformance_tests
            )


@dataclass(frozen=True)
class CoverageRow:
    """One category: what the contract documents and how often each item was exercised."""

    category: str
    documented: tuple[str, ...]
    exercised: Mapping[str, int]

    @property
    def covered(self) -> tuple[str, ...]:
        """Documented items exercised at least once."""
        return tuple(item for item in self.documented if self.exercised.get(item))

    @property
    def missing(self) -> tuple[str, ...]:
        """Documented items never exercised."""
        return tuple(item for item in self.documented if not self.exercised.get(item))

    @property
    def extra(self) -> tuple[str, ...]:
        """Exercised items the contract does not document (an undocumented status, say)."""
        return tuple(sorted(set(self.exercised) - set(self.documented)))

    def to_json(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return {
            "documented": list(self.documented),
            "exercised": dict(sorted(self.exercised.items())),
            "covered": list(self.covered),
            "missing": list(self.missing),
            "undocumented": list(self.extra),
        }


@dataclass(frozen=True)
class CoverageReport:
    """The comparison of one session's traffic with the contract."""

    rows: tuple[CoverageRow, ...]
    outside: int = 0
    conformance_tests: int = 0

    @property
    def covered(self) -> int:
        """Documented items exercised, over all categories."""
        return sum(len(row.covered) for row in self.rows)

    @property
    def total(self) -> int:
        """Documented items, over all categories."""
        return sum(len(row.documented) for row in self.rows)

    @property
    def percent(self) -> float:
        """Covered share of all documented items, 0-100 (100 when nothing is documented)."""
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_json(self) -> dict[str, Any]:
        """The JSON report: totals, then each category."""
        return {
            "covered": self.covered,
            "documented": self.total,
            "percent": round(self.percent, 2),
            "requests_outside_contract": self.outside,
            "categories": {row.category: row.to_json() for row in self.rows},
        }

    def summary_lines(self) -> list[str]:
        """The short terminal summary: the totals, the share per category, how to see more."""
        total = f"{self.covered}/{self.total} documented items exercised ({self.percent:.1f}%)"
        return [
            "; ".join([total, *self._notes()]),
            ", ".join(
                f"{row.category} {len(row.covered)}/{len(row.documented)}" for row in self.rows
            ),
            "--sora-coverage=full lists what was and was not exercised; =off hides this",
        ]

    def _notes(self) -> list[str]:
        """What the counts leave out, one phrase each."""
        notes = []
        if self.outside:
            notes.append(f"{self.outside} request(s) outside the contract not counted")
        if self.conformance_tests:
            notes.append(
                f"{self.conformance_tests} conformance test(s) not counted (each serves one "
                "forced situation on an engine of its own)"
            )
        return notes

    def lines(self) -> list[str]:
        """The full terminal summary, one line per category and one per list of items."""
        width = max(len(row.category) for row in self.rows)
        out = []
        for row in self.rows:
            share = f"{len(row.covered)}/{len(row.documented)}"
            if not row.documented:
                out.append(f"{row.category:<{width}}  none documented")
                continue
            percent = 100 * len(row.covered) / len(row.documented)
            out.append(f"{row.category:<{width}}  {share:>7} {percent:5.1f}%")
            pad = " " * width
            if row.covered:
                out.append(f"{pad}  seen: {_compact(row.covered, row.exercised)}")
            if row.missing:
                out.append(f"{pad}  never: {_compact(row.missing)}")
            if row.extra:
                out.append(f"{pad}  undocumented: {_compact(row.extra, row.exercised)}")
        out.append(f"{'total':<{width}}  {self.covered:>3}/{self.total:<3} {self.percent:5.1f}%")
        out.extend(f"({note})" for note in self._notes())
        return out


def _compact(items: Iterable[str], counts: Mapping[str, int] | None = None) -> str:
    """Items joined for one line; ``op 200, op 400`` become ``op 200 400``, counts as ``×n``."""
    groups: dict[str, list[str]] = {}
    for item in items:
        head, _, tail = item.rpartition(" ")
        shown = f"{tail} ×{counts[item]}" if counts else tail
        groups.setdefault(head, []).append(shown)
    return "; ".join(
        f"{head} {', '.join(tails)}" if head else ", ".join(tails) for head, tails in groups.items()
    )


def documented(contract: Contract, scenarios: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """What ``contract`` documents, per category, plus the given scenario names."""
    return {
        "operations": tuple(op.operation_id for op in contract.operations),
        "status codes": tuple(
            f"{op.operation_id} {status}" for op in contract.operations for status in op.statuses
        ),
        "task states": TASK_STATES,
        "failure codes": tuple(
            dict.fromkeys(
                code for model in contract.tasks.models.values() for code in model.failure_codes
            )
        ),
        "scenarios": tuple(sorted(scenarios)),
    }


class _Relay:
    """The in-process listener that passes each mock and call on to the innermost sink."""

    def mock_created(self, api: MockAPI) -> None:
        sink = current()
        if sink is not None:
            sink.add_scenarios(api.scenarios)

    def call_answered(self, api: MockAPI, call: Call) -> None:
        sink = current()
        if sink is not None:
            sink.record(
                operation=call.operation,
                status=call.status,
                task_status=call.task_status,
                failure_code=call.failure_code,
                scenario=call.scenario,
            )


_RELAY = _Relay()


def push(sink: ContractCoverage) -> None:
    """Make ``sink`` receive every mock's calls until :func:`pop` (sessions may nest)."""
    from sora_mock.inprocess import add_listener

    with _sinks_lock:
        if not _sinks:
            add_listener(_RELAY)
        _sinks.append(sink)


def pop(sink: ContractCoverage) -> None:
    """Stop sending calls to ``sink``."""
    from sora_mock.inprocess import remove_listener

    with _sinks_lock:
        if sink in _sinks:
            _sinks.remove(sink)
            if not _sinks:
                remove_listener(_RELAY)


def current() -> ContractCoverage | None:
    """The innermost active sink, if a session pushed one."""
    return _sinks[-1] if _sinks else None
