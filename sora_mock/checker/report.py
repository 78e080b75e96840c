"""How a check run is shown: a summary table, failures as curl commands, JUnit XML, JSON.

Secrets never leave in clear: the run's tokens are written as ``$SORA_TOKEN`` and
``$SORA_OTHER_TOKEN`` in curl commands (so they stay runnable) and masked everywhere else.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection, Mapping
from typing import Any

from sora_mock.checker.junit import JUnitCase, JUnitOutcome, JUnitSuite
from sora_mock.checker.rules import RULES, Finding, Probe
from sora_mock.checker.runner import CheckResult
from sora_mock.contract import Request, Response

__all__ = [
    "curl_command",
    "dumps",
    "json_report",
    "junit_xml",
    "mask_secrets",
    "render_failures",
    "render_summary",
    "response_lines",
    "rule_outcomes",
    "secrets_of",
]

_BODY_SHOWN = 600
_SHOWN_HEADERS = ("content-type", "retry-after", "location", "allow")


def secrets_of(result: CheckResult) -> dict[str, str]:
    """The run's tokens, each with the shell variable that stands for it."""
    secrets = {result.options.token: "SORA_TOKEN"}
    if result.options.other_token:
        secrets[result.options.other_token] = "SORA_OTHER_TOKEN"
    return secrets


def rule_outcomes(result: CheckResult) -> list[dict[str, Any]]:
    """Per rule: checked, failed and warning counts and an outcome (pass/fail/warn/skip)."""
    rows = []
    for rule, description in RULES.items():
        if rule in result.options.ignore:
            outcome, checked = "ignored", 0
        else:
            checked = result.ledger.checked.get(rule, 0)
            outcome = "skip" if checked == 0 else "pass"
        failed = sum(1 for f in result.ledger.failures if f.rule == rule)
        warned = sum(1 for f in result.ledger.warnings if f.rule == rule)
        if failed:
            outcome = "fail"
        elif warned and outcome != "ignored":
            outcome = "warn"
        rows.append(
            {
                "rule": rule,
                "description": description,
                "checked": checked,
                "failed": failed,
                "warnings": warned,
                "outcome": outcome,
            }
        )
    return rows


def render_summary(result: CheckResult) -> str:
    """The table of rules and one line of totals."""
    rows = rule_outcomes(result)
    width = max(len(r["rule"]) for r in rows)
    lines = [f"{'rule':<{width}}  checked  failed  warned  result", "-" * (width + 33)]
    for row in rows:
        lines.append(
            f"{row['rule']:<{width}}  {row['checked']:>7}  {row['failed']:>6}  "
            f"{row['warnings']:>6}  {row['outcome'].upper()}"
        )
    failed = sum(1 for r in rows if r["outcome"] == "fail")
    verdict = "FAILED" if failed else "PASSED"
    lines.append("")
    lines.append(
        f"{verdict}: {failed} of {len(rows)} rules failed; {result.examples} examples, "
        f"{result.exchanges} requests in {result.duration:.1f}s "
        f"({result.examples_per_second:.1f} examples/s); seed {result.seed}"
    )
    if result.rate_limited:
        lines.append(f"rate limited {result.rate_limited} times (waited as Retry-After asked)")
    return "\n".join(lines)


def render_failures(
    result: CheckResult, per_rule: int = 3, rules: Collection[str] | None = None
) -> str:
    """Each failure (up to ``per_rule`` per rule, of ``rules`` if given) with its request as
    curl and the response, then the warnings."""
    secrets = secrets_of(result)
    blocks = []
    by_rule: dict[str, list[Finding]] = {}
    for finding in result.ledger.failures:
        if rules is None or finding.rule in rules:
            by_rule.setdefault(finding.rule, []).append(finding)
    for rule, findings in by_rule.items():
        for finding in findings[:per_rule]:
            blocks.append(_render_finding(finding, result.base_url, secrets))
        if len(findings) > per_rule:
            blocks.append(f"  ... and {len(findings) - per_rule} more failures of {rule}")
    warnings = [w for w in result.ledger.warnings if rules is None or w.rule in rules]
    if warnings:
        seen: set[tuple[str, str]] = set()
        lines = ["warnings (not failures):"]
        for warning in warnings:
            key = (warning.rule, warning.message)
            if key not in seen:
                seen.add(key)
                lines.append(f"  ! {warning.rule}: {mask_secrets(warning.message, secrets)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _render_finding(finding: Finding, base_url: str, secrets: Mapping[str, str]) -> str:
    lines = [f"FAIL {finding.rule}: {mask_secrets(finding.message, secrets)}"]
    probe = finding.probe
    if probe is not None:
        lines.append(f"  request ({probe.label}):")
        lines.append("    " + curl_command(probe.request, base_url, secrets))
        lines.append("  response:")
        lines.extend("    " + line for line in response_lines(probe, secrets))
    return "\n".join(lines)


def response_lines(probe: Probe, secrets: Mapping[str, str]) -> list[str]:
    """The answer to ``probe``: status, the headers worth showing and the body (bounded)."""
    response = probe.response
    if response is None:
        return [f"(no response: {probe.error})"]
    lines = [f"HTTP {response.status}"]
    lines += [f"{k}: {v}" for k, v in response.headers if k.lower() in _SHOWN_HEADERS]
    lines.append(mask_secrets(_body_text(response), secrets))
    return lines


def curl_command(request: Request, base_url: str, secrets: Mapping[str, str] | None = None) -> str:
    """``request`` as a curl command line; tokens in ``secrets`` become shell variables."""
    secrets = secrets or {}
    url = base_url.rstrip("/") + request.path + (f"?{request.query}" if request.query else "")
    parts = ["curl", "-sS", "-i", "-X", request.method, shlex.quote(url)]
    for name, value in request.headers.items():
        if name == "accept":
            continue
        header = f"{_header_name(name)}: {value}"
        secret = next((s for s in secrets if s and s in header), None)
        if secret is not None:
            # Double quotes so the shell expands the variable that stands for the token.
            parts += ["-H", f'"{header.replace(secret, "$" + secrets[secret])}"']
        else:
            parts += ["-H", shlex.quote(header)]
    if request.body:
        parts += ["--data-binary", _shell_bytes(request.body)]
    return " ".join(parts)


def _header_name(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _shell_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return shlex.quote(text)
    # Bash's $'...' quoting carries any byte.
    escaped = "".join(
        chr(b) if 0x20 <= b < 0x7F and chr(b) not in "'\\" else f"\\x{b:02x}" for b in data
    )
    return f"$'{escaped}'"


def _body_text(response: Response) -> str:
    text = response.body.decode("utf-8", "replace")
    if len(text) > _BODY_SHOWN:
        return f"{text[:_BODY_SHOWN]}… ({len(response.body)} bytes)"
    return text or "(empty body)"


def mask_secrets(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with each secret replaced by its shell variable (``$SORA_TOKEN``)."""
    for secret, variable in secrets.items():
        if secret:
            text = text.replace(secret, f"${variable}")
    return text


# -- machine-readable -----------------------------------------------------------------------


def json_report(result: CheckResult) -> dict[str, Any]:
    """The whole run as JSON-ready data (tokens masked)."""
    secrets = secrets_of(result)
    return {
        "tool": "sora-mock check",
        "base_url": result.base_url,
        "ok": result.ok,
        "seed": result.seed,
        "started_at": round(result.started_at, 3),
        "duration_seconds": round(result.duration, 3),
        "examples": result.examples,
        "requests": result.exchanges,
        "examples_per_second": round(result.examples_per_second, 2),
        "first_failure_after_seconds": (
            None if result.first_failure_at is None else round(result.first_failure_at, 3)
        ),
        "rate_limited": result.rate_limited,
        "options": {
            "max_examples": result.options.max_examples,
            "max_tasks": result.options.max_tasks,
            "timeout": result.options.timeout,
            "poll_interval": result.options.poll_interval,
            "other_token": result.options.other_token is not None,
            "ignored_rules": sorted(result.options.ignore),
        },
        "rules": rule_outcomes(result),
        "findings": [_finding_json(f, result.base_url, secrets) for f in result.ledger.findings],
        "tasks": result.tasks,
    }


def _finding_json(finding: Finding, base_url: str, secrets: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule,
        "severity": finding.severity,
        "message": mask_secrets(finding.message, secrets),
        "after_seconds": round(finding.at, 3),
    }
    probe = finding.probe
    if probe is not None:
        data["label"] = probe.label
        data["request"] = {
            "method": probe.request.method,
            "path": probe.request.path,
            "curl": curl_command(probe.request, base_url, secrets),
        }
        response = probe.response
        data["response"] = (
            {"error": probe.error}
            if response is None
            else {
                "status": response.status,
                "headers": {k: mask_secrets(v, secrets) for k, v in response.headers},
                "body": mask_secrets(_body_text(response), secrets),
            }
        )
    return data


def junit_xml(result: CheckResult) -> str:
    """A JUnit XML report: one test case per rule; skipped when the run never exercised it."""
    secrets = secrets_of(result)
    cases = [_junit_case(result, row, secrets) for row in rule_outcomes(result)]
    suite = JUnitSuite(
        "sora-mock check", cases, result.duration, properties={"base_url": result.base_url}
    )
    return suite.to_xml()


def _junit_case(
    result: CheckResult, row: Mapping[str, Any], secrets: Mapping[str, str]
) -> JUnitCase:
    findings = [f for f in result.ledger.findings if f.rule == row["rule"]]
    failures = [f for f in findings if f.severity == "failure"]
    warnings = [f for f in findings if f.severity == "warning"]
    outcome: JUnitOutcome = "passed"
    message = details = ""
    if row["outcome"] == "fail":
        outcome, message = "failed", mask_secrets(failures[0].message, secrets)
        details = "\n\n".join(_render_finding(f, result.base_url, secrets) for f in failures[:20])
    elif row["outcome"] in ("skip", "ignored"):
        outcome = "skipped"
        message = (
            "ignored by request" if row["outcome"] == "ignored" else "not exercised by this run"
        )
    return JUnitCase(
        "sora_mock.check",
        row["rule"],
        outcome,
        message,
        details,
        properties={"description": row["description"]},
        output="\n".join(f"warning: {mask_secrets(w.message, secrets)}" for w in warnings),
    )


def dumps(data: Any) -> str:
    """JSON text for a report file."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
