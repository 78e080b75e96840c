"""Request rules JSON Schema cannot express (the ``x-sora-mock`` field rules): each returns
why a value breaks the rule, or None when it keeps it.

``span`` (a ``start,end`` value with ``0 < end - start <= max``) and ``callback`` (a URL the
mock may POST to: HTTPS on a public host). Each rule is a pure function of its strings, so
answers are cached: clients send the same few values again and again.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

# The same whitespace as the spec's pattern, spelled out: Python's ``\s`` also matches
# U+001C-U+001F, which the server's compiled (Rust) validator does not.
_SPACE = r"[ \t\r\n]*"
_SPAN = re.compile(rf"{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE},{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE}")


# The rules are pure functions of one value, cached: the engine checks every create, and a
# client's creates repeat their values (retries, the same clip, the same span).
@functools.lru_cache(maxsize=1024)
def span_problem(value: str, max_span: float) -> str | None:
    """Why ``value`` is not ``start,end`` with ``0 < end - start <= max_span``, or None."""
    found = _SPAN.fullmatch(value)
    if found is None:
        return f"expected 'start,end' in seconds, got {value!r}"
    start, end = float(found.group(1)), float(found.group(2))
    if end <= start:
        return f"end ({found.group(2)}) must be after start"
    if end - start > max_span:
        return f"the span {end - start:g}s exceeds {max_span:g} seconds"
    return None


@functools.lru_cache(maxsize=1024)
def callback_url_problem(
    url: str, field: str = "callback_url", *, allow_loopback: bool
) -> str | None:
    """Why ``url`` (the request's ``field``) cannot receive callbacks (HTTPS, public host).

    With ``allow_loopback`` a loopback receiver (``127.0.0.0/8``, ``::1``, ``localhost``)
    is allowed, over plain HTTP too, because a test's receiver lives there.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"{field} is not a valid URL"
    if not host:
        return f"{field} must name a host"
    loopback = _is_loopback(host)
    if loopback and allow_loopback:
        return None if parts.scheme.lower() in ("http", "https") else f"{field} must be http(s)"
    if parts.scheme.lower() != "https":
        return f"{field} must use HTTPS"
    if loopback or _is_private(host):
        return f"{field} must not point to a private or loopback address"
    return None


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
