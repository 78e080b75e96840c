"""The conformance report as one self-contained HTML page, for CI artifacts.

The summary, the situation × rule matrix, and for each broken rule the situations that
broke it: what the client did wrong, its requests as a timeline (client seconds, status,
poll gaps, ``Retry-After`` bands) beside the flagged requests as curl commands.

No credential leaves in clear: the token the harness gave the client is written as
``$SORA_API_KEY``, and any other one the client sent or printed (its real key, say) is cut
short with :func:`~sora_mock.engine.mask_token`, in curl commands and the client's words alike.

Example::

    Path("conformance.html").write_text(html_page(report, spec="bundled"))
"""

from __future__ import annotations

import dataclasses

from sora_mock.checker import curl_command
from sora_mock.conformance.masking import TOKEN_VARIABLE, Mask, mask_authorization, masking
from sora_mock.conformance.report import ConformanceReport, SituationResult
from sora_mock.conformance.rules import Rule, Verdict, retry_wait
from sora_mock.conformance.run import Run
from sora_mock.engine import Exchange
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

#: Where the curl commands send the client's requests again: ``sora-mock serve``'s default.
REPLAY_URL = "http://127.0.0.1:8000"
#: Requests drawn per timeline at most (a window around the first flagged one).
MAX_ROWS = 40
#: Flagged requests shown as curl commands per situation.
MAX_COMMANDS = 3
_STATES: dict[str, State] = {"pass": "kept", "fail": "broken", "n/a": "n/a"}
# Headers that belong to the connection the client used, not to the request it meant.
_TRANSPORT = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


def html_page(report: ConformanceReport, spec: str = "bundled") -> str:
    """The whole report as an HTML document; ``spec`` names the contract it was checked on."""
    broken = report.broken()
    mask = masking(result.run for result in report.results)
    body = [
        section("Summary", facts(_summary(report, spec, broken))),
        section(
            "Situations × rules",
            matrix_table(_matrix(report, mask))
            + '<p class="note">A broken cell links to its evidence below.</p>',
        ),
    ]
    notes = [f"{r.situation.name}: {mask(r.note)}" for r in report.results if r.note]
    notes += [f"problem: {mask(p)}" for p in report.problems]
    if notes:
        body.append(section("Notes", code_block(notes)))
    if broken:
        blocks = [
            _rule_block(rule, broken[rule.id], mask) for rule in report.rules if rule.id in broken
        ]
        body.append(section("What the client does wrong", "".join(blocks)))
    return page(f"sora-mock conformance: {report.client}", "".join(body))


def _summary(
    report: ConformanceReport, spec: str, broken: dict[str, list[SituationResult]]
) -> list[Fact]:
    verdicts = [v for r in report.results for v in r.verdicts]
    settings = report.settings
    found = [
        Fact("result", "all rules kept" if report.passed else f"{len(broken)} rule(s) broken"),
        Fact("client", report.client),
        Fact("spec", spec),
        Fact("mode", str(settings.get("mode", ""))),
    ]
    if "model" in settings:
        found.append(Fact("model", str(settings["model"])))
    found += [
        Fact("minimum poll interval", f"{settings.get('min_interval', 1.0):g} s"),
        Fact(
            "situations",
            f"{len(report.results)} ({sum(1 for r in report.results if not r.passed)} broken)",
        ),
        Fact("rules", str(len(report.rules))),
        Fact(
            "verdicts",
            f"{sum(1 for v in verdicts if v.status == 'pass')} kept, "
            f"{sum(1 for v in verdicts if v.failed)} broken, "
            f"{sum(1 for v in verdicts if v.status == 'n/a')} n/a",
        ),
        Fact("duration", f"{report.wall_seconds:.1f} s"),
    ]
    return found


def _matrix(report: ConformanceReport, mask: Mask) -> Matrix:
    columns = tuple(Column(rule.id, rule.title, rule.description) for rule in report.rules)
    rows = tuple(
        MatrixRow(
            result.situation.name,
            {
                v.rule: Cell(
                    _STATES[v.status],
                    mask(v.message),
                    f"#{_anchor(v.rule, result.situation.name)}" if v.failed else "",
                )
                for v in result.verdicts
            },
        )
        for result in report.results
    )
    return Matrix("situation", columns, rows)


def _rule_block(rule: Rule, hits: list[SituationResult], mask: Mask) -> str:
    parts = [f"<p>{text(rule.description)}</p>"]
    parts += [_situation_block(result, result.verdict(rule.id), mask) for result in hits]
    title = f"{rule.id}: broken in {len(hits)} situation(s)"
    return section(title, "".join(parts), f"rule-{rule.id}", level=3)


def _situation_block(result: SituationResult, verdict: Verdict, mask: Mask) -> str:
    run = result.run
    lines = [
        f'<p class="verdict"><strong>{text(result.situation.name)}</strong>: '
        f"{text(mask(verdict.message))}</p>",
        f'<p class="note">{text(result.situation.description.rstrip("."))}; expected: '
        f"{text(result.situation.expected())}; the client: "
        f"{text(mask(run.outcome.detail or run.outcome.status))}</p>",
    ]
    if result.note:
        lines.append(f'<p class="note">{text(mask(result.note))}</p>')
    drawn = _window(run, verdict)
    timeline = Timeline(
        tuple(_mark(run, run.exchanges[i], mask(verdict.marks.get(i, ""))) for i in drawn),
        f"{verdict.rule} in {result.situation.name}",
    )
    caption = "client seconds since the first request drawn"
    if len(drawn) < len(run.exchanges):
        caption += f"; requests {drawn.start + 1}-{drawn.stop} of {len(run.exchanges)}"
    requests = _commands(run, verdict, mask)
    more = max(0, len(verdict.marks) - MAX_COMMANDS)
    lines.append(evidence(timeline_figure(timeline, caption), requests, more))
    return f'<div id="{text(_anchor(verdict.rule, result.situation.name))}">{"".join(lines)}</div>'


def _mark(run: Run, exchange: Exchange, flag: str) -> Mark:
    status = exchange.response.status
    return Mark(
        at=(exchange.time - run.started) / run.speed,
        method=exchange.request.method,
        path=exchange.request.path,
        status=status,
        key=exchange.task_id,
        retry_after=retry_wait(run, exchange) if status == 429 else None,
        flag=flag,
    )


def _window(run: Run, verdict: Verdict) -> range:
    """The indices of the exchanges drawn: all, or a window from just before the first
    flagged one (the last ones when none is flagged)."""
    total = len(run.exchanges)
    first = min(verdict.marks, default=total) - 5
    start = max(0, min(first, total - MAX_ROWS))
    return range(start, min(total, start + MAX_ROWS))


def _commands(run: Run, verdict: Verdict, mask: Mask) -> list[str]:
    """The first flagged requests as curl commands, else what the client said."""
    chosen = sorted(verdict.marks)[:MAX_COMMANDS]
    if not chosen:
        if verdict.evidence:
            return ["<p>What the client said:</p>" + code_block(map(mask, verdict.evidence))]
        return []
    secrets = {run.token: TOKEN_VARIABLE}
    blocks = [
        f"<p>The flagged requests as curl (against <code>sora-mock serve</code> at "
        f"{text(REPLAY_URL)}, the token in <code>$SORA_API_KEY</code>):</p>"
    ]
    for index in chosen:
        exchange = run.exchanges[index]
        headers = {k: v for k, v in exchange.request.headers.items() if k not in _TRANSPORT}
        if "authorization" in headers and run.token not in headers["authorization"]:
            headers["authorization"] = mask_authorization(headers["authorization"])
        request = dataclasses.replace(exchange.request, headers=headers)
        blocks.append(
            f'<p class="note">#{index + 1}: {text(mask(verdict.marks[index]))}; answered '
            f"{exchange.response.status}</p>"
            + code_block([curl_command(request, REPLAY_URL, secrets)], {"class": "curl"})
        )
    return blocks


def _anchor(rule: str, situation: str) -> str:
    return f"rule-{rule}-{situation}"
