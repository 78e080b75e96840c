"""JUnit XML, the report format CI systems read: one writer for every tool that reports.

A tool describes its results as one :class:`JUnitSuite` of :class:`JUnitCase` values
(``sora-mock check``: a case per rule; ``sora-mock conform``: a case per situation and rule)
and :meth:`JUnitSuite.to_xml` writes them as ``<testsuites>`` holding that one ``<testsuite>``.

Example::

    suite = JUnitSuite("sora-mock check", [JUnitCase("sora_mock.check", "no_5xx")], time=1.5)
    Path("report.xml").write_text(suite.to_xml(), encoding="utf-8")
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["JUnitCase", "JUnitOutcome", "JUnitSuite"]

JUnitOutcome = Literal["passed", "failed", "skipped"]
#: Longest ``message`` attribute written; the whole text goes in the element's body.
MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class JUnitCase:
    """One test case.

    Attributes:
        classname: the group the case belongs to, e.g. ``conformance.success``.
        name: the case, e.g. a rule's name.
        outcome: ``failed`` writes a ``<failure>``, ``skipped`` a ``<skipped>``.
        message: why it failed or was skipped (one line).
        details: the failure's full text (evidence, requests).
        properties: written as the case's ``<properties>``.
        output: written as ``<system-out>`` (warnings, notes).
        time: seconds the case took, when it has a time of its own.
    """

    classname: str
    name: str
    outcome: JUnitOutcome = "passed"
    message: str = ""
    details: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)
    output: str = ""
    time: float | None = None


@dataclass(frozen=True, slots=True)
class JUnitSuite:
    """A run's cases, with its name, length in seconds and properties."""

    name: str
    cases: Sequence[JUnitCase]
    time: float = 0.0
    properties: Mapping[str, str] = field(default_factory=dict)

    def to_xml(self) -> str:
        """The suite as a JUnit XML document (with its declaration and a final newline)."""
        counts = {
            "tests": str(len(self.cases)),
            "failures": str(sum(1 for c in self.cases if c.outcome == "failed")),
            "errors": "0",
            "skipped": str(sum(1 for c in self.cases if c.outcome == "skipped")),
            "time": f"{self.time:.3f}",
        }
        root = ET.Element("testsuites", {"name": self.name, **counts})
        element = ET.SubElement(root, "testsuite", {"name": self.name, **counts})
        _properties(element, self.properties)
        for case in self.cases:
            _case(element, case)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _case(parent: ET.Element, case: JUnitCase) -> None:
    element = ET.SubElement(parent, "testcase", classname=case.classname, name=case.name)
    if case.time is not None:
        element.set("time", f"{case.time:.3f}")
    _properties(element, case.properties)
    if case.outcome == "failed":
        failure = ET.SubElement(element, "failure", message=_safe(case.message)[:MESSAGE_LIMIT])
        failure.text = _safe(case.details)
    elif case.outcome == "skipped":
        ET.SubElement(element, "skipped", message=_safe(case.message)[:MESSAGE_LIMIT])
    if case.output:
        ET.SubElement(element, "system-out").text = _safe(case.output)


def _properties(parent: ET.Element, properties: Mapping[str, str]) -> None:
    if properties:
        element = ET.SubElement(parent, "properties")
        for name, value in properties.items():
            ET.SubElement(element, "property", name=name, value=_safe(value))


def _safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters, even escaped; a response body may.
    return "".join(
        c
        if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
        else f"\\x{ord(c):02x}"
        for c in text
    )
