"""What the server writes: its start-up lines and one line per request, as text or as JSON
lines (one object per line, for log collectors); a warning repeated within an interval is
written once (:class:`RepeatFilter`).

Every line of the ``sora_mock`` loggers carries the time (UTC, ISO 8601, milliseconds) and the
level; a request line also its method, path, status, latency and the token, masked.

Example::

    configure_logging("json", "info")
    # {"time": "2026-01-09T10:00:00.123Z", "level": "info", "logger": "sora_mock.requests",
    #  "message": "GET /v1/tasks/t -> 404 ...", "method": "GET", "path": "/v1/tasks/t", ...}
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO
from urllib.parse import quote, unquote_plus

from sora_mock.contract import Request, Response
from sora_mock.engine import mask_token

LogFormat = Literal["text", "json"]
#: The values of ``--log-format`` and ``--log-level``.
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")

#: The attribute of a log record that holds its :class:`RequestLine`.
REQUEST_FIELD = "sora_request"
#: The attribute of a log record that holds its :class:`StartupLine`.
STARTUP_FIELD = "sora_startup"


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One answered request, as the log shows it (``token`` already masked)."""

    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    token: str
    bytes: int

    @classmethod
    def of(cls, request: Request, response: Response, seconds: float) -> RequestLine:
        """The line of ``request`` answered with ``response`` after ``seconds``: the bearer
        token masked, in the query too, and control characters escaped."""
        token = request.headers.get("authorization", "").partition(" ")[2].strip() or None
        return cls(
            method=printable(request.method),
            path=printable(request.path),
            query=printable(_masked_query(request.query, token)),
            status=response.status,
            latency_ms=round(seconds * 1000, 3),
            token=printable(mask_token(token) or "-"),
            bytes=len(response.body),
        )

    def text(self) -> str:
        """``GET /path?q -> 200 (token sk-…xyz, 321 bytes, 1.25 ms)``."""
        query = f"?{self.query}" if self.query else ""
        return (
            f"{self.method} {self.path}{query} -> {self.status} "
            f"(token {self.token}, {self.bytes} bytes, {self.latency_ms:.2f} ms)"
        )


def printable(text: str) -> str:
    """``text`` with control characters escaped: a decoded path may hold CR, LF or escape
    codes, and a log line must stay one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _masked_query(query: str, token: str | None) -> str:
    """``query`` with every token in it masked: the admin journal's ``token=`` filter, and
    any value that is the request's own bearer token."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        plain = unquote_plus(value)
        if equals and plain and (name == "token" or plain == token):
            part = f"{name}={quote(mask_token(plain) or '')}"
        parts.append(part)
    return "&".join(parts)


@dataclass(frozen=True, slots=True)
class StartupLine:
    """One start-up line: its text, and the same facts as fields for the JSON format."""

    message: str
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def configure_logging(
    log_format: LogFormat = "text", level: str = "info", stream: TextIO | None = None
) -> None:
    """Send the ``sora_mock`` loggers to ``stream`` (default stdout) in ``log_format``, from
    ``level`` up (one of :data:`LOG_LEVELS`)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger("sora_mock")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False


def write_startup(
    lines: Sequence[StartupLine], log_format: LogFormat, stream: TextIO | None = None
) -> None:
    """Write the start-up lines (whatever the level: they say where the server is)."""
    out = stream or sys.stdout
    formatter = JsonFormatter()
    now = time.time()
    for line in lines:
        if log_format == "json":
            record = logging.makeLogRecord(
                {
                    "name": "sora_mock.serve",
                    "levelno": logging.INFO,
                    "levelname": "INFO",
                    "msg": line.message,
                    "created": now,
                    STARTUP_FIELD: line,
                }
            )
            out.write(formatter.format(record) + "\n")
        else:
            out.write(f"sora-mock: {line.message}\n")
    out.flush()


class TextFormatter(logging.Formatter):
    """``2026-01-09T10:00:00.123Z INFO message``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_timestamp(record.created)} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, a request's or a start-up
    line's fields, and any traceback as one string under ``error``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line = getattr(record, REQUEST_FIELD, None)
        if isinstance(line, RequestLine):
            data.update(dataclasses.asdict(line))
        startup = getattr(record, STARTUP_FIELD, None)
        if isinstance(startup, StartupLine):
            data.update(startup.fields)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """Lets a warning (or worse) through once per kind per ``interval`` seconds.

    A kind is the logger, the message before its arguments and the exception's type; the
    first record of a kind after an interval says how many were held back. A client that
    reset its connection is no fault of the server: such a record keeps one line and loses
    its traceback. Lines below WARNING (the request log) always pass.
    """

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionError):
            record.msg = f"{record.getMessage()}: {error}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        kind = (record.name, str(record.msg), type(error).__name__)
        now = self.clock()
        with self._lock:
            since, held = self._seen.get(kind, (-float("inf"), 0))
            passes = now - since >= self.interval
            self._seen[kind] = (now, 0) if passes else (since, held + 1)
        if passes and held:
            record.msg = (
                f"{record.getMessage()} ({held} more like this in the last {self.interval:g} s)"
            )
            record.args = ()
        return passes


#: The loggers whose warnings :func:`quiet_repeats` throttles.
THROTTLED_LOGGERS = ("uvicorn.error", "asyncio", "sora_mock.server", "sora_mock.callbacks")


def quiet_repeats(interval: float = 10.0) -> None:
    """Put one :class:`RepeatFilter` on each of :data:`THROTTLED_LOGGERS` (once)."""
    repeats = RepeatFilter(interval)
    for name in THROTTLED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(repeats)


def _timestamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "REQUEST_FIELD",
    "STARTUP_FIELD",
    "THROTTLED_LOGGERS",
    "JsonFormatter",
    "LogFormat",
    "RepeatFilter",
    "RequestLine",
    "StartupLine",
    "TextFormatter",
    "configure_logging",
    "printable",
    "quiet_repeats",
    "write_startup",
]
