"""Request rules the JSON Schema cannot express: each returns a message, or None when met.

Each rule is a pure function of its strings, so answers are cached: clients send the same
few URLs and timestamps again and again.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm")
MAX_TIMESTAMP_SPAN = 2.0
DEFAULT_TIMESTAMPS = "0,2"
# The same whitespace as the spec's pattern, spelled out: Python's ``\s`` also matches
# U+001C-U+001F, which the server's compiled (Rust) validator does not.
_SPACE = r"[ \t\r\n]*"
_TIMESTAMPS = re.compile(
    rf"{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE},{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE}"
)


# The rules are pure functions of one value, cached: the engine checks every create, and a
# client's creates repeat their values (retries, the same clip, the same span).
@functools.lru_cache(maxsize=1024)
def parse_timestamps(value: str) -> tuple[float, float] | str:
    """``(start, end)`` of a ``timestamps`` value, or a message saying what is wrong."""
    found = _TIMESTAMPS.fullmatch(value)
    if found is None:
        return f"Invalid timestamps parameter: expected 'start,end' in seconds, got {value!r}"
    start, end = float(found.group(1)), float(found.group(2))
    if end <= start:
        return f"Invalid timestamps parameter: end ({found.group(2)}) must be after start"
    if end - start > MAX_TIMESTAMP_SPAN:
        return (
            f"Invalid timestamps parameter: the span {end - start:g}s exceeds "
            f"{MAX_TIMESTAMP_SPAN:g} seconds"
        )
    return start, end


@functools.lru_cache(maxsize=1024)
def span_problem(value: str, max_span: float) -> str | None:
    """Why ``value`` is not ``start,end`` with ``0 < end - start <= max_span``, or None."""
    found = _TIMESTAMPS.fullmatch(value)
    if found is None:
        return f"expected 'start,end' in seconds, got {value!r}"
    start, end = float(found.group(1)), float(found.group(2))
    if end <= start:
        return f"end ({found.group(2)}) must be after start"
    if end - start > max_span:
        return f"the span {end - start:g}s exceeds {max_span:g} seconds"
    return None


@functools.lru_cache(maxsize=1024)
def video_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a video URL (scheme, host, extension), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "video_url is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "video_url must be an http or https URL"
    if not parts.hostname:
        return "video_url must name a host"
    if not parts.path.lower().endswith(VIDEO_EXTENSIONS):
        return "video_url must point to a .mp4, .mov or .webm file"
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
