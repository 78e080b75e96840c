"""The conformance HTML report: situations × rules, and each broken rule's requests as a
timeline with the poll gaps and the Retry-After the client should have honoured."""

from __future__ import annotations

from sora_mock.conformance import Target, check_client, html_page
from sora_mock.conformance.html_report import MAX_ROWS
from tests.conformance_clients import OWN_KEY, leaks_its_own_key
from tests.html.parsing import classes, parse, svgs
from tests.html.reports import ignores_retry_after


def test_a_client_that_ignores_retry_after_shows_the_band_it_ran_into() -> None:
    report = ignores_retry_after()
    html = html_page(report, spec="bundled")
    parsed = parse(html)
    cells = {(c.attrs["data-row"], c.attrs["data-column"]): c for c in parsed.cells}
    assert len(cells) == 2 * len(report.rules)
    broken = cells[("poll-rate-limited-once", "retry-after")]
    assert broken.attrs["data-state"] == "broken"
    assert broken.text == "✗ broken"
    assert cells[("success", "retry-after")].text == "– n/a"
    assert cells[("success", "valid-requests")].text == "✓ kept"
    link = next(t for t in parsed.named("a") if t.attrs["href"].endswith("poll-rate-limited-once"))
    assert any(t.attrs.get("id") == link.attrs["href"][1:] for t in parsed.tags)
    # One timeline: a mark per request of the run, the band from the 429 to its Retry-After.
    (svg,) = svgs(html)
    run = report.result("poll-rate-limited-once").run
    marks = classes(svg, "mark")
    drawn = run.exchanges[:MAX_ROWS]  # the window starts before the first flagged request
    assert len(marks) == len(drawn)
    if len(run.exchanges) > MAX_ROWS:
        assert f"requests 1-{MAX_ROWS} of {len(run.exchanges)}" in parsed.text
    assert len(classes(svg, "flagged")) == 1
    limited = sum(1 for e in drawn if e.response.status == 429)
    assert limited >= 1
    assert len(classes(svg, "retry-after")) == limited
    assert classes(svg, "gap")
    assert "curl -sS -i -X GET http://127.0.0.1:8000/v1/tasks/" in parsed.text
    assert '"Authorization: Bearer $SORA_API_KEY"' in parsed.text
    assert run.token not in html
    assert parsed.external_references() == []


def test_what_a_client_says_is_escaped() -> None:
    def client(target: Target) -> dict[str, str]:
        raise ValueError("<script>alert('from the client')</script>")

    report = check_client(client, ["success"])
    html = html_page(report)
    assert "<script" not in html
    assert "<script>alert('from the client')</script>" in parse(html).text


def test_a_real_key_the_client_sends_and_prints_stays_out_of_the_page() -> None:
    key = OWN_KEY
    report = check_client(leaks_its_own_key, ["success"])
    assert not report.passed
    assert {"bearer-token", "outcome"} <= set(report.broken())
    html = html_page(report)
    assert key not in html
    text = parse(html).text
    assert "curl -sS -i -X POST" in text  # the flagged request is shown, its key cut short
    assert f"Authorization: Bearer {key[:4]}…{key[-2:]}" in text
    assert f"the API refused {key[:4]}…{key[-2:]}" in text
