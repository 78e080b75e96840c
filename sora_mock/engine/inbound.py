"""Reading what a request carries: its bearer token, its preferences and its JSON body."""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Iterator
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


class UnpairedSurrogateError(ValueError):
    """A JSON string escapes half of a UTF-16 surrogate pair alone (``"\\ud800"``): valid
    JSON syntax, but not Unicode text, so nothing downstream could encode it.

    ``field`` is the top-level key whose value holds it (None when a key holds it)."""

    def __init__(self, field: str | None, code: int) -> None:
        self.field = field
        where = f"the value of {field}" if field is not None else "a key"
        super().__init__(
            f"{where} holds an unpaired surrogate escape (\\u{code:04x}), which is not Unicode"
        )


def strict_json(raw: bytes) -> Any:
    """JSON that refuses duplicate keys, the non-standard NaN and Infinity, and strings
    that are not Unicode (:class:`UnpairedSurrogateError`).

    Raises ValueError (or RecursionError for nesting too deep) on anything else."""
    value = _STRICT_DECODER.decode(raw.decode("utf-8"))
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):  # else no string can hold one
        _refuse_unpaired_surrogates(value)
    return value


def loose_json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object for scenario matching, or None when it is not one."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


#: A ``\\u`` escape of a surrogate half (JSON allows only a lower-case ``u``).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_unpaired_surrogates(value: Any) -> None:
    """Raise :class:`UnpairedSurrogateError` for the first string of ``value`` (a decoded body)
    that is not Unicode."""
    fields = value.items() if isinstance(value, dict) else [(None, value)]
    for key, item in fields:
        code = _lone_surrogate(key) if key is not None else None
        if code is not None:
            raise UnpairedSurrogateError(None, code)
        for text in _strings(item):
            code = _lone_surrogate(text)
            if code is not None:
                raise UnpairedSurrogateError(key, code)


def _strings(value: Any) -> Iterator[str]:
    """Every string in ``value``, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _lone_surrogate(text: str) -> int | None:
    """The code of the first surrogate half in ``text``, if any."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return ord(text[exc.start])
    return None


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
