"""One client run through one situation, as the rules see it, and the settings they use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sora_mock.conformance.outcome import Made, Outcome
from sora_mock.conformance.situations import Situation
from sora_mock.conformance.variations import Variation
from sora_mock.contract import Contract
from sora_mock.engine import Exchange

#: Marks shown in evidence per failure; the rest are counted.
MAX_MARKS = 3


@dataclass(frozen=True)
class Settings:
    """What the rules measure against."""

    contract: Contract
    min_interval: float = 1.0
    tolerance: float = 0.0


@dataclass(frozen=True)
class Run:
    """One client run through one situation: what it sent, got and reported, and what each
    task it saw completed made (``made``, by task id)."""

    situation: Situation
    token: str
    exchanges: tuple[Exchange, ...]
    outcome: Outcome
    speed: float
    started: float
    ended: float
    stopped: str | None = None
    made: Mapping[str, Made] = field(default_factory=dict)
    variation: Variation | None = None

    @property
    def api_exchanges(self) -> list[tuple[int, Exchange]]:
        """The numbered exchanges outside the mock's own ``/__mock/`` routes."""
        return [(i, e) for i, e in enumerate(self.exchanges) if e.operation != "mock"]

    @property
    def elapsed(self) -> float:
        """Client seconds from the start of the run to its end."""
        return (self.ended - self.started) / self.speed

    def seconds(self, earlier: Exchange, later: Exchange) -> float:
        """Client seconds between two exchanges."""
        return (later.time - earlier.time) / self.speed

    def timeline(self, marks: Mapping[int, str], context: int = 1) -> tuple[str, ...]:
        """Evidence lines: the marked requests (the first few) with the one before each."""
        shown_marks = sorted(marks)[:MAX_MARKS]
        wanted: set[int] = set()
        for index in shown_marks:
            wanted.update(range(max(0, index - context), index + 1))
        if not marks:
            wanted = set(range(max(0, len(self.exchanges) - 3), len(self.exchanges)))
        lines: list[str] = []
        previous = -1
        for index in sorted(wanted):
            if index > previous + 1:
                lines.append("   …")
            exchange = self.exchanges[index]
            offset = (exchange.time - self.started) / self.speed
            mark = f"   <- {marks[index]}" if index in marks else ""
            lines.append(f"  +{offset:7.2f}s  {exchange.summary()}{mark}")
            previous = index
        if len(marks) > len(shown_marks):
            lines.append(f"   … ({len(marks) - len(shown_marks)} more like this)")
        elif previous < len(self.exchanges) - 1:
            lines.append(f"   … ({len(self.exchanges) - 1 - previous} more requests)")
        return tuple(lines)
