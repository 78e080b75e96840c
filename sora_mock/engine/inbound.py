"""Reading what a request carries: its bearer token, its preferences and its JSON body."""

from __future__ import annotations

import functools
import json
import string
from typing import Any

_BEARER_TOKEN = frozenset(string.ascii_letters + string.digits + "-._~+/=")


def parse_prefer(header: str | None) -> dict[str, str]:
    """The ``key=value`` preferences of a ``Prefer`` header (RFC 7240), keys lower case."""
    if not header:
        return {}
    preferences = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key and value:
            preferences[key.strip().lower()] = value.strip().strip('"')
    return preferences


@functools.lru_cache(maxsize=4096)
def bearer_token(authorization: str | None) -> str | None:
    """The token of a well-formed ``Authorization: Bearer`` header value, else None.

    Cached: clients reuse their token on every request."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    if not set(token) <= _BEARER_TOKEN:
        return None
    return token


def strict_json(raw: bytes) -> Any:
    """JSON that refuses duplicate keys and the non-standard NaN and Infinity.

    Raises ValueError (or RecursionError for nesting too deep) on anything else."""
    return _STRICT_DECODER.decode(raw.decode("utf-8"))


def loose_json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object for scenario matching, or None when it is not one."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant
)
