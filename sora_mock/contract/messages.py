"""Plain request and response values: what the doors hand the engine and get back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

# orjson writes compact UTF-8 JSON about ten times faster than the standard library, which
# remains for what orjson refuses: integers past 64 bits, and non-string keys (which it
# writes as strings; orjson's own option for them halves its speed on every body).
_FALLBACK_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class Request:
    """One HTTP request, independent of the server or client library that carried it.

    ``headers`` keys are lower case. ``base_url`` is how the client reached the mock
    (``scheme://host[:port]``), used to build links back to it. ``client`` is the peer
    address when the door knows it. ``oversized`` says the door stopped reading a body
    larger than the limit (``body`` is then empty).

    Requests and responses are values: nothing changes them once made (use
    ``dataclasses.replace``). They are not frozen only because a frozen dataclass is about
    four times slower to build, and every request builds several.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = "http://127.0.0.1:8000"
    client: str | None = None
    oversized: bool = False

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        body: bytes = b"",
        base_url: str = "http://127.0.0.1:8000",
        client: str | None = None,
        oversized: bool = False,
    ) -> Request:
        """A request with header names folded to lower case (the last of repeats wins)."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        return cls(
            method=method.upper(),
            path=path,
            query=query,
            headers={name.lower(): value for name, value in pairs},
            body=body,
            base_url=base_url.rstrip("/"),
            client=client,
            oversized=oversized,
        )

    @property
    def query_params(self) -> dict[str, str]:
        """The query string as a mapping (the last of repeats wins)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


#: Faults a door carries out: close without answering, or send half the body and close.
DOOR_FAULTS = frozenset({"drop_connection", "truncated_body"})


#: One header as a (name, value) pair.
Header = tuple[str, str]


@dataclass(slots=True)
class Response:
    """One HTTP response: status, header pairs and body bytes.

    ``delay`` (real seconds) and ``fault`` (one of :data:`DOOR_FAULTS`) are instructions to
    the door that delivers the response; the engine never waits or touches a connection.
    A value, like :class:`Request`: the engine hands the same response to several polls of
    a finished task.
    """

    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    delay: float = 0.0
    fault: str | None = None

    @classmethod
    def json(cls, status: int, data: Any, headers: Iterable[Header] = ()) -> Response:
        """A JSON response with ``content-type: application/json``."""
        return cls(status, (JSON_CONTENT, *headers), json_bytes(data))

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if present."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
                break
        return found

    def json_body(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


#: The ``content-type`` header of a JSON response.
JSON_CONTENT = ("content-type", "application/json")


def json_bytes(data: Any) -> bytes:
    """``data`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return _FALLBACK_ENCODER.encode(data).encode()
