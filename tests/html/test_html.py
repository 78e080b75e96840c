"""The HTML blocks: well-formed, escaped, one mark per request, bands where asked to wait."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sora_mock.html import (
    Cell,
    Column,
    Fact,
    Mark,
    Matrix,
    MatrixRow,
    Timeline,
    code_block,
    evidence,
    facts,
    matrix_table,
    page,
    short_path,
    timeline_svg,
)
from tests.html.parsing import SVG, classes, parse

TASK = "/v1/tasks/task-unified-1757000000-abcdef12"


def polls() -> Timeline:
    return Timeline(
        (
            Mark(10.0, "POST", "/v1/videos/generations", 200),
            Mark(10.5, "GET", TASK, 429, key="t", retry_after=2.0),
            Mark(10.7, "GET", TASK, 200, key="t", flag="0.20 s after a 429 with Retry-After: 2"),
            Mark(11.2, "GET", TASK, None, key="t"),
        )
    )


def test_the_timeline_is_well_formed_svg_with_one_mark_per_request() -> None:
    root = ET.fromstring(timeline_svg(polls()))
    assert root.tag == f"{SVG}svg"
    marks = classes(root, "mark")
    assert len(marks) == 4
    assert marks[0].get("cx") == "300.0"  # the axis starts at the first request
    labels = [t.text for g in classes(root, "request") for t in g.iter(f"{SVG}text")]
    assert "+0.00s POST /v1/videos/generations 200" in labels
    assert "+0.70s GET /v1/tasks/task-uni…ef12 no answer" not in labels
    assert "+1.20s GET /v1/tasks/task-uni…ef12 no answer" in labels
    assert [g.get("data-status") for g in classes(root, "request")] == [
        "200",
        "429",
        "200",
        "no answer",
    ]


def test_the_poll_gaps_and_the_retry_after_band_are_drawn() -> None:
    root = ET.fromstring(timeline_svg(polls()))
    gaps = ["".join(g.itertext()) for g in classes(root, "gap") if g.tag == f"{SVG}tspan"]
    assert gaps == ["Δ0.20 s", "Δ0.50 s"]  # between polls of one key only
    assert len(classes(root, "gap")) == 4  # each a line and its text
    bands = classes(root, "retry-after")
    assert len(bands) == 1
    rect = bands[0].find(f"{SVG}rect")
    assert rect is not None
    # The band runs from the 429 (+0.5 s) to the earliest retry (+2.5 s), the axis's end.
    assert float(rect.get("x", "0")) == 300 + 0.5 / 2.5 * 440
    assert float(rect.get("width", "0")) == 2.0 / 2.5 * 440
    assert "Retry-After: 2 s" in "".join(bands[0].itertext())
    assert ["".join(t.itertext()) for t in classes(root, "wait")] == ["Retry-After 2 s"]
    assert len(classes(root, "flagged")) == 1


def test_no_band_without_a_retry_after_and_an_empty_timeline_says_so() -> None:
    plain = Timeline((Mark(0, "GET", "/a", 429), Mark(1, "GET", "/a", 200)))
    assert classes(ET.fromstring(timeline_svg(plain)), "retry-after") == []
    empty = ET.fromstring(timeline_svg(Timeline(())))
    assert "no request was sent" in "".join(empty.itertext())


def test_text_from_outside_is_escaped_everywhere() -> None:
    evil = "<script>alert(1)</script>"
    svg = timeline_svg(Timeline((Mark(0, "GET", f"/{evil}", 500, flag=evil),), title=evil))
    assert "<script>" not in svg
    ET.fromstring(svg)
    html = page(evil, facts([Fact(evil, evil)]) + code_block([evil]))
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 5


def test_evidence_sets_the_figure_beside_its_requests_and_counts_the_rest() -> None:
    root = ET.fromstring(evidence("<figure/>", ["<p>one</p>", "<p>two</p>"], more=4))
    assert root.get("class") == "evidence"
    figure, requests = list(root)
    assert figure.tag == "figure"
    assert requests.get("class") == "requests"
    assert ["".join(p.itertext()) for p in requests] == ["one", "two", "… and 4 more"]
    assert "more" not in evidence("<figure/>", ["<p>one</p>"])


def test_the_matrix_says_each_state_in_a_symbol_and_a_word() -> None:
    matrix = Matrix(
        "situation",
        (Column("poll-interval", "interval", "no poll too soon"), Column("outcome", "outcome")),
        (
            MatrixRow("success", {"poll-interval": Cell("kept"), "outcome": Cell("n/a")}),
            MatrixRow(
                "fail-<x>", {"poll-interval": Cell("broken", "too soon", "#rule-poll-interval")}
            ),
        ),
    )
    cells = [
        (c.attrs["data-column"], c.attrs["data-state"], c.text)
        for c in parse(page("m", matrix_table(matrix))).cells
    ]
    assert cells == [
        ("poll-interval", "kept", "✓ kept"),
        ("outcome", "n/a", "– n/a"),
        ("poll-interval", "broken", "✗ broken"),
        ("outcome", "n/a", "– n/a"),  # a missing cell is n/a
    ]


def test_short_paths_keep_both_ends_of_long_segments() -> None:
    assert short_path("/v1/tasks/task-unified-1757000000-abcdef12") == "/v1/tasks/task-uni…ef12"
    assert short_path("/v1/videos/generations") == "/v1/videos/generations"
