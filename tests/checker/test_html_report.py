"""The check run's HTML report: summary, rules × groups, the failing requests as a timeline
beside curl commands, everything the server said escaped."""

from __future__ import annotations

from sora_mock.checker import html_page
from tests.html.parsing import classes, parse, svgs
from tests.html.reports import SCRIPT, TOKEN, ScriptInErrors, checked
from tests.mutants import Mutant


def test_a_broken_rule_shows_in_the_matrix_with_its_requests_and_curl() -> None:
    result = checked(ScriptInErrors())
    html = html_page(result, spec="bundled")
    parsed = parse(html)
    broken = [c for c in parsed.cells if c.attrs["data-state"] == "broken"]
    assert broken
    assert {c.attrs["data-row"] for c in broken} == {"content_type", "error_envelope"}
    assert "malformed and unknown task ids" in {c.attrs["data-column"] for c in broken}
    assert all(c.text == "✗ broken" for c in broken)
    assert {c.attrs["data-state"] for c in parsed.cells} >= {"kept", "broken", "n/a"}
    assert any(t.attrs.get("id") == "rule-content_type" for t in parsed.tags)
    # The failing requests as a timeline, one mark per request that broke the rule.
    failing = {id(f.probe) for f in result.ledger.failures if f.rule == "content_type"}
    start = html.index('id="rule-content_type"')
    marks = classes(svgs(html[start:])[0], "mark")
    assert len(marks) == len(failing)
    # Curl commands that run, the token as its variable; the server's page only as text.
    assert "curl -sS -i -X GET" in parsed.text
    assert '"Authorization: Bearer $SORA_TOKEN"' in parsed.text
    assert TOKEN not in html
    assert SCRIPT in parsed.text
    assert "<script" not in html
    assert parsed.external_references() == []


def test_a_clean_run_has_no_broken_section() -> None:
    result = checked(Mutant())
    parsed = parse(html_page(result))
    assert result.ok
    assert "PASSED" in parsed.text
    assert all(c.attrs["data-state"] != "broken" for c in parsed.cells)
    assert "Broken rules" not in parsed.text
    assert parsed.named("svg") == []
