"""The contract checker: rules (pure), the requests a contract makes, the HTTP runner, the
stateful machine and reports. All of them read the given contract (default: the bundled
one): its operations, models, examples and task body.

:func:`html_page` makes a run's self-contained HTML report. The JUnit XML writer
(:class:`JUnitSuite`) serves every tool that reports, conformance too.

:mod:`sora_mock.checker.stateful` (a hypothesis state machine) is imported on its own.
"""

from sora_mock.checker.cases import RequestCases
from sora_mock.checker.html_report import html_page
from sora_mock.checker.junit import JUnitCase, JUnitOutcome, JUnitSuite
from sora_mock.checker.options import add_token_options
from sora_mock.checker.report import (
    curl_command,
    dumps,
    json_report,
    junit_xml,
    render_failures,
    render_summary,
)
from sora_mock.checker.rules import (
    RULES,
    Expectation,
    Finding,
    Ledger,
    Probe,
    TaskHistory,
    TaskShape,
    check_exchange,
    check_probe,
)
from sora_mock.checker.runner import Checker, CheckOptions, CheckResult, run_check

__all__ = [
    "RULES",
    "CheckOptions",
    "CheckResult",
    "Checker",
    "Expectation",
    "Finding",
    "JUnitCase",
    "JUnitOutcome",
    "JUnitSuite",
    "Ledger",
    "Probe",
    "RequestCases",
    "TaskHistory",
    "TaskShape",
    "add_token_options",
    "check_exchange",
    "check_probe",
    "curl_command",
    "dumps",
    "html_page",
    "json_report",
    "junit_xml",
    "render_failures",
    "render_summary",
    "run_check",
]
