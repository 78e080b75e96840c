"""A check run as one self-contained HTML page, for CI artifacts.

The summary, the matrix of check groups (the run's phases) × rules, and for each broken rule
the requests that show it: a timeline (seconds into the run, status, the gap between
requests to one task path, ``Retry-After`` bands) beside each as a curl command with its
answer. Tokens appear as ``$SORA_TOKEN`` / ``$SORA_OTHER_TOKEN``, as in the text report.

Example::

    Path("check.html").write_text(html_page(result, spec="bundled"))
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sora_mock.checker.report import (
    curl_command,
    mask_secrets,
    response_lines,
    rule_outcomes,
    secrets_of,
)
from sora_mock.checker.rules import RULES, Finding, Probe
from sora_mock.checker.runner import CheckResult
from sora_mock.contract import parse_retry_after
from sora_mock.html import (
    Cell,
    Column,
    Fact,
    Mark,
    Matrix,
    MatrixRow,
    State,
    Timeline,
    code_block,
    evidence,
    facts,
    matrix_table,
    page,
    section,
    text,
    timeline_figure,
)

__all__ = ["html_page"]

#: Requests drawn per broken rule at most (its first failures).
MAX_ROWS = 40
#: Failures shown as curl commands per broken rule.
MAX_COMMANDS = 3
_STATES: dict[str, State] = {
    "pass": "kept",
    "fail": "broken",
    "warn": "warned",
    "skip": "n/a",
    "ignored": "n/a",
}
_NOT_GROUPS = ("", "starting", "done")


def html_page(result: CheckResult, spec: str = "bundled") -> str:
    """The run as an HTML document; ``spec`` names the contract it was checked against."""
    outcomes = {row["rule"]: row for row in rule_outcomes(result)}
    body = [
        section("Summary", facts(_summary(result, spec, outcomes))),
        section(
            "Rules × groups of checks",
            matrix_table(_matrix(result))
            + '<p class="note">Columns are the groups of checks, in the order they ran; a '
            "broken cell links to its evidence below.</p>",
        ),
    ]
    broken = [rule for rule, row in outcomes.items() if row["outcome"] == "fail"]
    if broken:
        blocks = [_rule_block(result, rule, outcomes[rule]["checked"]) for rule in broken]
        body.append(section("Broken rules", "".join(blocks)))
    secrets = secrets_of(result)
    warnings = sorted(
        {f"{w.rule}: {mask_secrets(w.message, secrets)}" for w in result.ledger.warnings}
    )
    if warnings:
        body.append(section("Warnings (not failures)", code_block(warnings)))
    return page(f"sora-mock check: {result.base_url}", "".join(body))


def _summary(result: CheckResult, spec: str, outcomes: dict[str, dict[str, Any]]) -> list[Fact]:
    states = [_STATES[str(row["outcome"])] for row in outcomes.values()]
    options = result.options
    started = datetime.fromtimestamp(result.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    counts = ", ".join(f"{states.count(s)} {s}" for s in ("kept", "broken", "warned", "n/a"))
    return [
        Fact("result", "PASSED" if result.ok else "FAILED"),
        Fact("target", result.base_url),
        Fact("spec", spec),
        Fact(
            "mode",
            f"check over HTTP; seed {result.seed}; {options.max_examples} examples per group; "
            f"at most {options.max_tasks} tasks, polled {options.poll_interval:g} s apart",
        ),
        Fact("rules", f"{len(states)}: {counts}"),
        Fact(
            "requests",
            f"{result.exchanges} ({result.examples} examples; rate limited "
            f"{result.rate_limited} times)",
        ),
        Fact("started", started),
        Fact("duration", f"{result.duration:.1f} s"),
    ]


def _groups(result: CheckResult) -> list[str]:
    found = list(result.ledger.by_group)
    found += [f.group for f in result.ledger.findings if f.group not in found]
    return list(dict.fromkeys(g for g in found if g not in _NOT_GROUPS))


def _matrix(result: CheckResult) -> Matrix:
    ledger = result.ledger
    groups = _groups(result)
    rows = []
    for rule in RULES:
        cells = {}
        for group in groups:
            found = [f for f in ledger.findings if f.group == group and f.rule == rule]
            failures = [f for f in found if f.severity == "failure"]
            checked = ledger.by_group.get(group, {}).get(rule, 0)
            if rule in result.options.ignore:
                cells[group] = Cell("n/a", "ignored")
            elif failures:
                cells[group] = Cell("broken", f"{len(failures)} failure(s)", f"#rule-{rule}")
            elif found:
                cells[group] = Cell("warned", f"{len(found)} warning(s)")
            elif checked:
                cells[group] = Cell("kept", f"checked {checked} times")
            else:
                cells[group] = Cell("n/a", "not checked in this group")
        rows.append(MatrixRow(rule, cells))
    columns = tuple(Column(group, group) for group in groups)
    return Matrix("rule", columns, tuple(rows))


def _rule_block(result: CheckResult, rule: str, checked: int) -> str:
    secrets = secrets_of(result)
    failures = [f for f in result.ledger.failures if f.rule == rule]
    # One mark per request: a request may break the rule more than once.
    probes = {id(f.probe): (f, f.probe) for f in failures if f.probe is not None}
    shown = list(probes.values())[:MAX_ROWS]
    timeline = Timeline(
        tuple(_mark(result, f, probe, secrets) for f, probe in shown), f"{rule}: failures"
    )
    caption = "seconds since the first failing request drawn"
    if len(shown) < len(probes):
        caption += f"; {len(shown)} of {len(probes)} failing requests drawn"
    commands = [_command(result, f, secrets) for f in failures[:MAX_COMMANDS]]
    parts = [
        f"<p>{text(RULES[rule])}</p>",
        f'<p class="verdict">checked {checked} times, failed {len(failures)} times; '
        f"first: {text(mask_secrets(failures[0].message, secrets))}</p>",
        evidence(timeline_figure(timeline, caption), commands, len(failures) - len(commands)),
    ]
    return section(f"{rule}: broken", "".join(parts), f"rule-{rule}", level=3)


def _mark(result: CheckResult, finding: Finding, probe: Probe, secrets: dict[str, str]) -> Mark:
    response = probe.response
    wait = None
    if response is not None and response.status == 429:
        asked = parse_retry_after(response.header("retry-after"))
        wait = asked.wait(now=result.started_at + finding.at) if asked is not None else None
    return Mark(
        at=finding.at,
        method=probe.request.method,
        path=probe.request.path,
        status=None if response is None else response.status,
        key=probe.request.path if probe.request.method == "GET" else None,
        retry_after=wait,
        flag=mask_secrets(finding.message, secrets),
    )


def _command(result: CheckResult, finding: Finding, secrets: dict[str, str]) -> str:
    message = f'<p class="note">{text(mask_secrets(finding.message, secrets))}</p>'
    probe = finding.probe
    if probe is None:
        return message
    return (
        message
        + f'<p class="note">request ({text(probe.label)}):</p>'
        + code_block([curl_command(probe.request, result.base_url, secrets)], {"class": "curl"})
        + '<p class="note">response:</p>'
        + code_block(response_lines(probe, secrets), {"class": "response"})
    )
