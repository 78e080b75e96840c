"""What every in-process door shares: which URLs it answers, and a response's latency.

:class:`BaseURL` says whether a URL is under the mock's base URL (scheme, host, port and a
path prefix on a segment boundary) and gives the pattern the ``responses`` and
``aioresponses`` registries match; :func:`wait_out` carries out a response's ``delay`` on
the virtual clock. Each door turns the rest (faults) into its library's own exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from sora_mock.contract import Response
from sora_mock.inprocess.sleeps import virtual_wait

#: The methods the doors register: a registry matches a method exactly.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class BaseURL:
    """A base URL as the doors compare it: scheme, host, port (None: the default) and prefix."""

    url: str
    scheme: str
    host: str
    port: int | None
    prefix: str

    @classmethod
    def parse(cls, url: str) -> BaseURL:
        """The base URL ``url`` names (httpx normalizes case and default ports)."""
        parsed = httpx.URL(url)
        return cls(url, parsed.scheme, parsed.host, parsed.port, parsed.path.rstrip("/"))

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, spelled as the libraries spell a request's URL."""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    def covers(self, url: str | httpx.URL) -> bool:
        """True when ``url`` is under this base URL."""
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        if (parsed.scheme, parsed.host, parsed.port) != (self.scheme, self.host, self.port):
            return False
        prefix = self.prefix
        return not prefix or parsed.path == prefix or parsed.path.startswith(f"{prefix}/")

    def pattern(self) -> re.Pattern[str]:
        """A pattern full URLs under this base URL match (path and query included)."""
        return re.compile(f"^{re.escape(self.origin + self.prefix)}(?:[/?#].*)?$", re.IGNORECASE)

    def path(self, path: str) -> str:
        """``path`` without the prefix, as the engine sees it."""
        if self.prefix and path.startswith(self.prefix):
            return path[len(self.prefix) :] or "/"
        return path


def wait_out(response: Response, timeout: float | None) -> bool:
    """Let ``response.delay`` pass on the virtual clock, by at most ``timeout``.

    Nothing waits for real: in a thread whose sleeps are virtual
    (:mod:`sora_mock.inprocess.sleeps`) the clock moves, elsewhere the delay is skipped.
    True when the answer comes after ``timeout``: the client must see its timeout error.
    """
    if response.delay > 0:
        virtual_wait(response.delay if timeout is None else min(response.delay, timeout))
    return timeout is not None and response.delay > timeout
