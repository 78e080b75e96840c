"""Which URLs a mock answers: an origin, and a base URL with a path prefix.

The doors ask :meth:`BaseURL.covers` (or match :meth:`BaseURL.pattern`) and strip the prefix
with :meth:`BaseURL.path`; the guard compares :class:`Origin` values. Standard library only,
so the guard loads none of the HTTP libraries it watches.

Example::

    base = BaseURL.parse("http://proxy.internal:8080/sora")
    base.covers("http://PROXY.internal:8080/sora/v1/tasks")   # True
    base.covers("http://proxy.internal:8080/SORA/v1/tasks")   # False: paths keep their case
    base.path("/sora/v1/tasks")                               # "/v1/tasks"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: The port a scheme means when a URL names none.
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """A URL's scheme and host (lower case) and port (the scheme's default when it names none)."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of ``url``."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return cls(scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme))

    def __str__(self) -> str:
        """``scheme://host[:port]``, the default port left out, as the libraries spell a URL."""
        port = "" if self.port in (None, DEFAULT_PORTS.get(self.scheme)) else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


@dataclass(frozen=True, slots=True)
class BaseURL:
    """A base URL as the doors compare it: its origin and a path prefix (decoded, no final /)."""

    url: str
    origin: Origin
    prefix: str

    @classmethod
    def parse(cls, url: str) -> BaseURL:
        """The base URL ``url`` names."""
        return cls(url, Origin.of(url), unquote(urlsplit(url).path).rstrip("/"))

    def covers(self, url: str) -> bool:
        """True when ``url`` is under this base URL (the prefix ending on a segment boundary)."""
        if Origin.of(url) != self.origin:
            return False
        prefix = self.prefix
        path = unquote(urlsplit(url).path)
        return not prefix or path == prefix or path.startswith(f"{prefix}/")

    def pattern(self) -> re.Pattern[str]:
        """A pattern full URLs under this base URL match (path and query included).

        Scheme and host match in any case, the prefix only in its own, as :meth:`covers`.
        """
        origin, prefix = re.escape(str(self.origin)), re.escape(self.prefix)
        return re.compile(f"^(?i:{origin}){prefix}(?:[/?#].*)?$")

    def path(self, path: str) -> str:
        """``path`` without the prefix, as the engine sees it."""
        if self.prefix and path.startswith(self.prefix):
            return path[len(self.prefix) :] or "/"
        return path
