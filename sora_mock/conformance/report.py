"""Conformance reports: a readable table per situation and rule, JSON and JUnit XML.

Example::

    print(report.to_text())
    Path("conformance.xml").write_text(report.to_junit())
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sora_mock.checker import JUnitCase, JUnitOutcome, JUnitSuite
from sora_mock.conformance.masking import masking
from sora_mock.conformance.rules import Rule, Verdict, rules
from sora_mock.conformance.run import Run
from sora_mock.conformance.situations import Situation
from sora_mock.engine import mask_token
from sora_mock.errors import ConformanceFailure

_CELLS = {"pass": "ok", "fail": "FAIL", "n/a": "-"}
_JUNIT_OUTCOMES: dict[str, JUnitOutcome] = {"pass": "passed", "fail": "failed", "n/a": "skipped"}


@dataclass(frozen=True)
class SituationResult:
    """One situation's run and the verdict of every rule on it."""

    situation: Situation
    run: Run
    verdicts: tuple[Verdict, ...]
    note: str = ""

    @property
    def failures(self) -> list[Verdict]:
        """The broken rules."""
        return [v for v in self.verdicts if v.failed]

    @property
    def passed(self) -> bool:
        """True when no rule is broken."""
        return not self.failures

    def verdict(self, rule: str) -> Verdict:
        """The verdict of ``rule``."""
        return next(v for v in self.verdicts if v.rule == rule)

    def describe(self) -> str:
        """A text block: the situation, what was expected and reported, each failure."""
        run = self.run
        lines = [
            f"situation {self.situation.name}: {self.situation.description}",
            f"expected: {self.situation.expected()}; the client: "
            f"{run.outcome.detail or run.outcome.status}",
        ]
        if self.note:
            lines.append(f"note: {self.note}")
        for verdict in self.failures:
            lines.append(f"BROKEN {verdict.rule}: {verdict.message}")
            lines += verdict.evidence
        return masking([run])("\n".join(lines))

    def raise_for_failures(self) -> None:
        """Raise :class:`ConformanceFailure` (an AssertionError) when a rule is broken."""
        if not self.passed:
            raise ConformanceFailure(self.describe())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view, with every request the client sent."""
        run = self.run
        return {
            "name": self.situation.name,
            "group": self.situation.group,
            "description": self.situation.description,
            "expected": self.situation.expected(),
            "passed": self.passed,
            "token": mask_token(run.token),
            "outcome": run.outcome.as_dict(),
            "stopped": run.stopped,
            "seconds": round(run.elapsed, 3),
            "note": self.note or None,
            "variation": run.variation.as_dict() if run.variation is not None else None,
            "verdicts": [
                {
                    "rule": v.rule,
                    "status": v.status,
                    "message": v.message,
                    "evidence": list(v.evidence),
                }
                for v in self.verdicts
            ],
            "requests": [
                {
                    "at": round((e.time - run.started) / run.speed, 3),
                    "method": e.request.method,
                    "path": e.request.path,
                    "status": e.response.status,
                    "operation": e.operation,
                    "task_id": e.task_id,
                    "summary": e.summary(),
                    "violations": list(e.violations),
                }
                for e in run.exchanges
            ],
        }


@dataclass
class ConformanceReport:
    """Every situation's result for one client, and how to show them."""

    client: str
    results: list[SituationResult]
    settings: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules checked, in order."""
        return rules(float(self.settings.get("min_interval", 1.0)))

    @property
    def passed(self) -> bool:
        """True when every situation kept every rule."""
        return all(r.passed for r in self.results) and not self.problems

    def broken(self) -> dict[str, list[SituationResult]]:
        """Broken rule id → the situations that broke it, in rule order."""
        found: dict[str, list[SituationResult]] = {}
        for rule in self.rules:
            hits = [r for r in self.results if r.verdict(rule.id).failed]
            if hits:
                found[rule.id] = hits
        return found

    def result(self, situation: str) -> SituationResult:
        """The result of the situation called ``situation``."""
        return next(r for r in self.results if r.situation.name == situation)

    def raise_for_failures(self) -> None:
        """Raise :class:`ConformanceFailure` with the text report when a rule is broken."""
        if not self.passed:
            raise ConformanceFailure(self.to_text())

    # -- text ---------------------------------------------------------------------------

    def to_text(self, details: int = 3) -> str:
        """The table per situation and rule, then each broken rule with evidence.

        ``details`` is how many situations per broken rule show their requests (the rest
        are named); 0 shows them all.
        """
        broken = self.broken()
        failed = sum(1 for r in self.results if not r.passed)
        lines = [f"sora-mock conformance: {self.client}", self._settings_line()]
        if self.passed:
            headline = f"{len(self.results)} situations × {len(self.rules)} rules: all kept"
        else:
            headline = (
                f"{len(self.results)} situations × {len(self.rules)} rules: "
                f"{len(broken)} rule(s) broken in {failed} situation(s)"
            )
        lines += [headline, "", *self._table()]
        notes = [f"  {r.situation.name}: {r.note}" for r in self.results if r.note]
        notes += [f"problem: {p}" for p in self.problems]
        if notes:
            lines += ["", *notes]
        if broken:
            lines += ["", "What the client does wrong"]
            for rule in self.rules:
                if rule.id in broken:
                    lines += self._rule_block(rule, broken[rule.id], details)
        return self._masked("\n".join(lines).rstrip() + "\n")

    def _settings_line(self) -> str:
        s = self.settings
        parts = [str(s.get("mode", ""))]
        if "model" in s:
            parts.append(f"model {s['model']}")
        parts.append(f"minimum poll interval {s.get('min_interval', 1.0):g} s")
        if "time_limit" in s:
            parts.append(f"time limit {s['time_limit']:g} s per situation")
        parts.append(f"took {self.wall_seconds:.1f} s")
        return "; ".join(p for p in parts if p)

    def _table(self) -> list[str]:
        width = max([len("situation"), *(len(r.situation.name) for r in self.results)])
        titles = [rule.title for rule in self.rules]
        head = f"{'situation':<{width}}  " + "  ".join(titles)
        rows = [head, "-" * len(head)]
        for result in self.results:
            cells = [
                f"{_CELLS[result.verdict(rule.id).status]:^{len(title)}}"
                for rule, title in zip(self.rules, titles, strict=True)
            ]
            rows.append(f"{result.situation.name:<{width}}  " + "  ".join(cells).rstrip())
        rows.append("ok: kept   FAIL: broken   -: not put to the test in this situation")
        return rows

    def _rule_block(self, rule: Rule, hits: Sequence[SituationResult], details: int) -> list[str]:
        lines = ["", f"{rule.id}: {rule.description}", f"  broken in {len(hits)} situation(s)"]
        shown = hits if details <= 0 else hits[:details]
        for result in shown:
            verdict = result.verdict(rule.id)
            lines.append(f"  {result.situation.name}: {verdict.message}")
            if result.note and result.situation.explore:
                lines.append(f"    ({result.note})")
            lines += [f"  {line}" for line in verdict.evidence]
        rest = hits[len(shown) :]
        if rest:
            lines.append(f"  also in: {', '.join(r.situation.name for r in rest)}")
        return lines

    # -- JSON and JUnit -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the whole report."""
        return {
            "client": self.client,
            "passed": self.passed,
            "settings": self.settings,
            "seconds": round(self.wall_seconds, 3),
            "rules": [{"id": r.id, "description": r.description} for r in self.rules],
            "broken": {
                rule: [r.situation.name for r in hits] for rule, hits in self.broken().items()
            },
            "problems": self.problems,
            "situations": [r.as_dict() for r in self.results],
        }

    def to_json(self) -> str:
        """The report as JSON text."""
        return self._masked(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")

    def to_junit(self) -> str:
        """The report as JUnit XML: one test case per situation and rule."""
        # No per-case time: a run's length is in the client's (maybe virtual) seconds.
        cases = [
            JUnitCase(
                f"conformance.{result.situation.name}",
                verdict.rule,
                _JUNIT_OUTCOMES[verdict.status],
                verdict.message if verdict.status != "pass" else "",
                "\n".join([f"expected: {result.situation.expected()}", *verdict.evidence])
                if verdict.failed
                else "",
            )
            for result in self.results
            for verdict in result.verdicts
        ]
        return self._masked(
            JUnitSuite(f"sora-mock conformance: {self.client}", cases, self.wall_seconds).to_xml()
        )

    def _masked(self, text: str) -> str:
        """``text`` with every credential a client sent or printed hidden (:mod:`masking`)."""
        return masking(result.run for result in self.results)(text)
