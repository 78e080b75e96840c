"""Client conformance: run any client through a matrix of situations and check the rules.

A Python client is a callable taking a :class:`Target` (base URL, token, the model and a
valid create body for it, a ready httpx client) that returns its outcome or raises; any
other client is a command (``sora-mock conform --run "COMMAND"``). Either way the harness
serves each situation from its own engine, records what the client sent, and checks the
rules of :mod:`sora_mock.conformance.rules`. Everything it knows of the API comes from the
contract it is given (default: the bundled one); ``model=`` names the model the client uses.

Example::

    from sora_mock.conformance import check_client

    report = check_client(lambda t: my_client(t.base_url, t.api_key, t.body))
    print(report.to_text())
"""

from __future__ import annotations

from sora_mock.conformance.command import CommandHarness, CommandOptions
from sora_mock.conformance.html_report import html_page
from sora_mock.conformance.outcome import Made, Outcome
from sora_mock.conformance.report import ConformanceReport, SituationResult
from sora_mock.conformance.rules import Rule, Verdict, rules
from sora_mock.conformance.run import Run, Settings
from sora_mock.conformance.runner import Harness, Stopped, Target, check_client
from sora_mock.conformance.situations import Expectation, Situation, catalogue, select
from sora_mock.conformance.subject import Subject
from sora_mock.conformance.testing import conformance_tests
from sora_mock.conformance.variations import SetValue, Variation

__all__ = [
    "CommandHarness",
    "CommandOptions",
    "ConformanceReport",
    "Expectation",
    "Harness",
    "Made",
    "Outcome",
    "Rule",
    "Run",
    "SetValue",
    "Settings",
    "Situation",
    "SituationResult",
    "Stopped",
    "Subject",
    "Target",
    "Variation",
    "Verdict",
    "catalogue",
    "check_client",
    "conformance_tests",
    "html_page",
    "rules",
    "select",
]
