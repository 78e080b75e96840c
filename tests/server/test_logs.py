"""The server's log lines, as text and as JSON lines, and one line per kind of warning per
interval."""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from sora_mock.cli import build_parser
from sora_mock.contract import Request, Response
from sora_mock.engine import Engine, VirtualClock
from sora_mock.server import (
    BackgroundServer,
    ConnectionLimits,
    ServeSettings,
    StartupLine,
    configure_logging,
    write_startup,
)
from sora_mock.server.logs import LOG_FORMATS, LOG_LEVELS, RepeatFilter, RequestLine
from tests.helpers import VALID_BODY, auth

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
TOKEN = "sk-secret-token-for-the-log-0123"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    logger = logging.getLogger("sora_mock")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    stream = io.StringIO()
    yield stream
    logger.handlers[:], logger.level, logger.propagate = saved


def _serve_one_request(query: str = "") -> None:
    with BackgroundServer(Engine(clock=VirtualClock()), log_requests=True) as server:
        answer = httpx.post(
            f"{server.base_url}/v1/videos/generations{query}", json=VALID_BODY, headers=auth(TOKEN)
        )
    assert answer.status_code == 200, answer.text


def test_a_text_request_line_has_time_level_status_and_latency(log_stream: io.StringIO) -> None:
    configure_logging("text", "info", log_stream)
    _serve_one_request()
    (line,) = log_stream.getvalue().splitlines()
    assert re.fullmatch(
        rf"{TIME} INFO POST /v1/videos/generations -> 200 "
        r"\(token sk-\S+, \d+ bytes, \d+\.\d\d ms\)",
        line,
    ), line
    assert TOKEN not in line


def test_a_json_request_line_is_one_object_with_named_fields(log_stream: io.StringIO) -> None:
    configure_logging("json", "info", log_stream)
    _serve_one_request("?trace=1")
    (line,) = log_stream.getvalue().splitlines()
    record = json.loads(line)
    assert re.fullmatch(TIME, record["time"])
    assert record["level"] == "info"
    assert record["logger"] == "sora_mock.requests"
    assert (record["method"], record["path"], record["query"]) == (
        "POST",
        "/v1/videos/generations",
        "trace=1",
    )
    assert record["status"] == 200
    assert isinstance(record["latency_ms"], float)
    assert record["latency_ms"] >= 0
    assert record["bytes"] > 0
    assert record["token"].startswith("sk-")
    assert TOKEN not in line


def test_a_level_above_info_drops_request_lines(log_stream: io.StringIO) -> None:
    configure_logging("json", "warning", log_stream)
    _serve_one_request()
    assert log_stream.getvalue() == ""


def test_a_json_error_keeps_its_traceback_inside_the_object(log_stream: io.StringIO) -> None:
    configure_logging("json", "info", log_stream)
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("sora_mock.requests").exception("failed on %s", "GET /")
    (line,) = log_stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert record["message"] == "failed on GET /"
    assert "ValueError: broken" in record["error"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_startup_lines_in_either_format(log_format: str) -> None:
    stream = io.StringIO()
    lines = [StartupLine("spec: a.yaml", {"spec": ["a.yaml"]}), StartupLine("settings: b")]
    write_startup(lines, "json" if log_format == "json" else "text", stream)
    written = stream.getvalue().splitlines()
    if log_format == "text":
        assert written == ["sora-mock: spec: a.yaml", "sora-mock: settings: b"]
    else:
        first = json.loads(written[0])
        assert list(first) == ["time", "level", "logger", "message", "spec"]
        assert (first["level"], first["logger"]) == ("info", "sora_mock.serve")
        assert first["message"] == "spec: a.yaml"
        assert first["spec"] == ["a.yaml"]
        assert re.fullmatch(TIME, first["time"])
        assert json.loads(written[1])["message"] == "settings: b"


def test_a_token_in_the_query_is_masked_in_the_log(log_stream: io.StringIO) -> None:
    configure_logging("text", "info", log_stream)
    with BackgroundServer(Engine(clock=VirtualClock()), log_requests=True) as server:
        for query in (f"token={TOKEN}&status=4xx", f"key={TOKEN}"):
            httpx.get(f"{server.base_url}/__mock/journal?{query}", headers=auth(TOKEN))
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert all(TOKEN not in line for line in lines), lines
    assert "token=sk-s" in lines[0]
    assert "&status=4xx" in lines[0]


def test_the_serve_command_offers_the_log_formats_levels_and_limits_of_the_server() -> None:
    # The CLI writes its own copy, so that parsing arguments does not import uvicorn.
    [commands] = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    options = {action.dest: action for action in commands.choices["serve"]._actions}
    assert tuple(options["log_format"].choices or ()) == LOG_FORMATS
    assert tuple(options["log_level"].choices or ()) == LOG_LEVELS
    settings, limits = ServeSettings(), ConnectionLimits()
    assert (options["log_format"].default, options["log_level"].default) == (
        settings.log_format,
        settings.log_level,
    )
    assert (options["keep_alive"].default, options["head_timeout"].default) == (
        limits.keep_alive,
        limits.head_timeout,
    )
    assert (options["keep_alive"].default, options["head_timeout"].default) == (5, 5.0)


def test_a_request_line_masks_tokens_and_escapes_control_characters() -> None:
    request = Request(
        "GET",
        "/__mock/journal\r\nforged",
        f"token={TOKEN}&key={TOKEN}&status=4xx",
        {"authorization": f"Bearer {TOKEN}"},
    )
    line = RequestLine.of(request, Response(200, body=b"abc"), 0.00125)
    assert line.path == "/__mock/journal\\r\\nforged"
    assert line.query == "token=sk-s%E2%80%A623&key=sk-s%E2%80%A623&status=4xx"
    assert (line.status, line.latency_ms, line.token, line.bytes) == (200, 1.25, "sk-s…23", 3)
    assert TOKEN not in line.text()
    anonymous = RequestLine.of(Request("GET", "/x"), Response(404), 0)
    assert anonymous.token == "-"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(
    message: str, level: int = logging.WARNING, exc: BaseException | None = None
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("uvicorn.error", level, __file__, 1, message, (), exc_info)


def test_repeated_warnings_pass_once_per_interval_then_say_how_many_were_held_back() -> None:
    clock = _Clock()
    repeats = RepeatFilter(interval=10, clock=clock)
    passed = [repeats.filter(_record("Invalid HTTP request received.")) for _ in range(500)]
    assert passed.count(True) == 1
    assert repeats.filter(_record("Exceeded concurrency limit."))  # another kind
    clock.now = 10.5
    again = _record("Invalid HTTP request received.")
    assert repeats.filter(again)
    assert "499 more like this in the last 10 s" in again.getMessage()


def test_info_lines_are_never_held_back() -> None:
    repeats = RepeatFilter(interval=10, clock=_Clock())
    assert all(repeats.filter(_record("GET /x -> 200", logging.INFO)) for _ in range(50))


def test_a_client_reset_loses_its_traceback() -> None:
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError as exc:
        record = _record("Exception in callback", logging.ERROR, exc)
    assert RepeatFilter(interval=10, clock=_Clock()).filter(record)
    assert record.exc_info is None
    assert "Connection reset by peer" in record.getMessage()
