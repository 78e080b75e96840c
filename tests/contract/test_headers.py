"""The one ``Retry-After`` reader: delta-seconds and the three HTTP-date formats."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora_mock.contract import RetryAfter, parse_retry_after

#: Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example moment.
MOMENT = float(calendar.timegm((1994, 11, 6, 8, 49, 37)))


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0), ("2", 2), ("120", 120), (" 7\t", 7), ("007", 7)]
)
def test_delta_seconds(value: str, seconds: int) -> None:
    parsed = parse_retry_after(value)
    assert parsed == RetryAfter(seconds=seconds)
    assert parsed.wait(now=MOMENT) == float(seconds)


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime, read as GMT
    ],
)
def test_http_dates_in_every_format(value: str) -> None:
    parsed = parse_retry_after(value)
    assert parsed == RetryAfter(at=MOMENT)
    assert parsed.seconds is None
    assert parsed.wait(now=MOMENT - 30) == 30.0


def test_a_date_in_the_past_means_no_wait() -> None:
    parsed = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT")
    assert parsed is not None
    assert parsed.wait(now=MOMENT + 3600) == 0.0


@pytest.mark.parametrize(
    "value", [None, "", "soon", "-1", "+2", "1.5", "2 seconds", "\u00b2", "\u0663"]
)
def test_unreadable_values(value: str | None) -> None:
    assert parse_retry_after(value) is None


@given(st.integers(min_value=0, max_value=10**12))
def test_any_whole_number_of_seconds_reads_back(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == RetryAfter(seconds=seconds)
