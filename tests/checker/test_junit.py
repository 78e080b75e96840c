"""The one JUnit XML writer both ``check --junit`` and ``conform --junit`` use."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sora_mock.checker import JUnitCase, JUnitSuite

SUITE = JUnitSuite(
    "sora-mock check",
    [
        JUnitCase("g", "kept", properties={"description": "holds"}, time=0.25),
        JUnitCase("g", "broken", "failed", "went wrong", "evidence\nline 2"),
        JUnitCase("g", "unused", "skipped", "not exercised", output="warning: loose"),
    ],
    time=1.5,
    properties={"base_url": "http://127.0.0.1:8000"},
)


def test_one_suite_in_a_testsuites_root_with_counts() -> None:
    text = SUITE.to_xml()
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n")
    assert text.endswith("</testsuites>\n")
    root = ET.fromstring(text.split("\n", 1)[1])
    (suite,) = root.findall("testsuite")
    for element in (root, suite):
        assert element.get("name") == "sora-mock check"
        counts = {k: element.get(k) for k in ("tests", "failures", "errors", "skipped", "time")}
        assert counts == {
            "tests": "3",
            "failures": "1",
            "errors": "0",
            "skipped": "1",
            "time": "1.500",
        }
    assert suite.find("properties/property[@name='base_url']") is not None


def test_each_outcome_is_written_as_junit_readers_expect() -> None:
    suite = ET.fromstring(SUITE.to_xml().split("\n", 1)[1]).find("testsuite")
    assert suite is not None
    kept, broken, unused = suite.findall("testcase")
    assert kept.get("time") == "0.250"
    assert kept.find("failure") is None
    assert kept.find("skipped") is None
    assert kept.find("properties/property[@value='holds']") is not None
    failure = broken.find("failure")
    assert failure is not None
    assert (failure.get("message"), failure.text) == ("went wrong", "evidence\nline 2")
    assert broken.get("time") is None  # a case without a time of its own has none
    skipped = unused.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not exercised"
    assert unused.findtext("system-out") == "warning: loose"


def test_text_xml_cannot_carry_is_escaped_and_long_messages_are_cut() -> None:
    case = JUnitCase("g", "binary", "failed", "x" * 600 + "\x00", "body \x00\x1b end")
    text = JUnitSuite("s", [case]).to_xml()
    failure = ET.fromstring(text.split("\n", 1)[1]).find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.text == "body \\x00\\x1b end"
    assert failure.get("message") == "x" * 500
