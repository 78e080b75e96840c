"""HTTP header values the contract gives meaning to, parsed once for every layer.

``Retry-After`` (RFC 9110 §10.2.3) is either a delay in whole seconds or an HTTP-date;
:func:`parse_retry_after` reads both, and :meth:`RetryAfter.wait` turns either into seconds.

Example::

    parse_retry_after("2").wait(now=time.time())                               # 2.0
    parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT").seconds                # None
    parse_retry_after("soon")                                                   # None
"""

from __future__ import annotations

import datetime
import email.utils
import re
from dataclasses import dataclass

__all__ = ["RetryAfter", "parse_retry_after"]

_DELAY = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """A readable ``Retry-After`` value: exactly one of ``seconds`` and ``at`` is set.

    Attributes:
        seconds: the delay, for the delta-seconds form (``Retry-After: 120``).
        at: the moment as Unix time, for the HTTP-date form (a date without a zone is GMT,
            as every HTTP-date is).
    """

    seconds: int | None = None
    at: float | None = None

    def wait(self, now: float) -> float:
        """Seconds to wait counted from ``now`` (Unix time); never negative."""
        if self.seconds is not None:
            return float(self.seconds)
        assert self.at is not None  # one of the two is always set
        return max(0.0, self.at - now)


def parse_retry_after(value: str | None) -> RetryAfter | None:
    """The ``Retry-After`` field value read, or None when it is absent or unreadable.

    Delta-seconds are ASCII digits only (no sign, no fraction); an HTTP-date may be in any
    of the three formats a recipient must accept (IMF-fixdate, RFC 850, asctime).
    """
    if value is None:
        return None
    value = value.strip(" \t")
    if _DELAY.fullmatch(value):
        return RetryAfter(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return RetryAfter(at=when.timestamp())
