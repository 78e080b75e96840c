"""A seeded mutation fuzz of raw HTTP requests against sora-mock's server on both parsers.

Valid creates, polls and reads, and the parser table's cases, are mutated (bytes flipped,
inserted, dropped; header lines repeated, dropped or added; lengths changed; line ends
changed; the request cut short or split over several writes) and sent, many connections
at once. Whatever arrives, the server answers with no 5xx (no scenario is asked for),
logs no traceback, still serves a normal create and poll afterwards, and its process grows
by less than :data:`RSS_BOUND` bytes.

``SORA_MOCK_FUZZ_CASES`` sets the cases per parser (``make fuzz`` runs a long one) and
``SORA_MOCK_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
from collections.abc import Iterator

import httpx
import pytest

from sora_mock.contract.openapi import Contract
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.protocols import HttpName
from sora_mock.server.runner import BackgroundServer
from tests.helpers import CREATE_PATH, VALID_BODY, auth
from tests.rawhttp import address
from tests.server.test_parser_parity import CASES
from tests.server.wire import create_bytes, poll_bytes

#: Cases per parser.
CASE_COUNT = int(os.environ.get("SORA_MOCK_FUZZ_CASES", "1500"))
SEED = int(os.environ.get("SORA_MOCK_FUZZ_SEED", "23"))
#: The most the process (server and client) may grow over a run: 64 MiB.
RSS_BOUND = 64 * 1024 * 1024
#: Connections open at once, and how long one waits for the server to finish.
_CONCURRENCY = 64
_READ_TIMEOUT = 1.0

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def _corpus(task_id: str) -> list[bytes]:
    keep = [
        create_bytes(),
        create_bytes(close=True),
        poll_bytes(task_id),
        poll_bytes(task_id, close=False),
    ]
    keep.append(b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
    return keep + [data for _, data, _ in CASES]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """``data`` with one to three random mutations."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(_MUTATIONS)(rng, data)
    return data


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    piece = rng.choice(
        [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"\x00", b"%", b",", b"0", b"\xff"]
    )
    return data[:at] + piece * rng.randint(1, 3) + data[at:]


def _drop(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 8) :]


def _lines(rng: random.Random, data: bytes) -> bytes:
    """Repeat, drop or swap a header line, or add one."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if len(lines) < 2:
        return data
    at = rng.randrange(1, len(lines))
    action = rng.randrange(4)
    if action == 0:
        lines.insert(at, lines[at])
    elif action == 1:
        del lines[at]
    elif action == 2:
        lines[at], lines[-1] = lines[-1], lines[at]
    else:
        lines.insert(at, rng.choice(_HEADERS))
    return b"\r\n".join(lines) + sep + body


_HEADERS = [
    b"Transfer-Encoding: chunked",
    b"Content-Length: 0",
    b"Content-Length: 99999999999",
    b"Expect: 100-continue",
    b"Connection: keep-alive",
    b"Connection: close",
    b"Host: other",
    b"Content-Type: text/plain",
    b"Authorization: Bearer x",
    b"Upgrade: websocket",
    b"X-Pad: " + b"p" * 20_000,
]


def _length(rng: random.Random, data: bytes) -> bytes:
    value = rng.choice([b"0", b"1", b"-1", b"+5", b"1e3", b"18446744073709551616", b"5, 5"])
    return re.sub(rb"(?i)content-length: *[^\r\n]*", b"Content-Length: " + value, data, count=1)


def _line_ends(rng: random.Random, data: bytes) -> bytes:
    return data.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"]), rng.randint(1, 4))


def _cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _twice(rng: random.Random, data: bytes) -> bytes:
    return data + rng.choice([data, create_bytes(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"])


_MUTATIONS = [_flip, _insert, _drop, _lines, _length, _line_ends, _cut, _twice]


def _writes(rng: random.Random, data: bytes) -> list[bytes]:
    """``data`` in one write, or split at random points into up to five."""
    if rng.random() < 0.5 or len(data) < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(4, len(data) - 1)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


async def _send(base_url: str, writes: list[bytes]) -> bytes:
    host, port = address(base_url)
    reader, writer = await asyncio.open_connection(host, port)
    received = b""
    try:
        for part in writes:
            writer.write(part)
            await writer.drain()
        async with asyncio.timeout(_READ_TIMEOUT):
            while chunk := await reader.read(65536):
                received += chunk
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
    return received


async def _run(base_url: str, cases: list[tuple[bytes, list[bytes]]]) -> list[tuple[bytes, bytes]]:
    """Send every case, :data:`_CONCURRENCY` at once; the cases answered with a 5xx, and
    their answers."""
    pending = iter(cases)
    failures: list[tuple[bytes, bytes]] = []

    async def worker() -> None:
        for data, writes in pending:
            answer = await _send(base_url, writes)
            statuses = _STATUS.findall(answer)
            # A scenario may ask for a 5xx, through the Prefer header.
            if any(code.startswith(b"5") for code in statuses) and b"prefer" not in data.lower():
                failures.append((data[:200], answer[:300]))

    await asyncio.gather(*(worker() for _ in range(_CONCURRENCY)))
    return failures


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Records(logging.Handler):
    """Keeps the records that carry a traceback or are errors."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in message:
            self.records.append(record)


@contextlib.contextmanager
def _server_log() -> Iterator[_Records]:
    """The tracebacks and errors logged by uvicorn, sora-mock, asyncio (or the root).

    Entered after the server is built: uvicorn's logging set-up replaces its loggers'
    handlers.
    """
    handler = _Records()
    names = ["", "uvicorn", "uvicorn.error", "sora_mock", "asyncio"]
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.slow
@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_mutated_requests_get_no_5xx_and_leave_the_server_serving(http: HttpName) -> None:
    engine = Engine(contract=Contract.bundled(), clock=VirtualClock(), seed=7)
    rng = random.Random(f"{SEED}-{http}")
    with (
        BackgroundServer(engine, http=http) as server,
        _server_log() as server_log,
        httpx.Client(base_url=server.base_url) as client,
    ):
        task_id = client.post(CREATE_PATH, json=VALID_BODY, headers=auth()).json()["id"]
        corpus = _corpus(task_id)
        warm = [(data, _writes(rng, data)) for data in corpus]
        asyncio.run(_run(server.base_url, warm))
        cases = []
        for _ in range(CASE_COUNT):
            data = _mutate(rng, rng.choice(corpus))
            cases.append((data, _writes(rng, data)))
        before = _rss()
        failures = asyncio.run(_run(server.base_url, cases))
        grown = _rss() - before
        created = client.post(CREATE_PATH, json=VALID_BODY, headers=auth())
        polled = client.get(f"/v1/tasks/{created.json()['id']}", headers=auth())
    assert not failures, failures[:5]
    assert not server_log.records, [record.getMessage() for record in server_log.records[:5]]
    assert created.status_code == 200
    assert polled.status_code == 200
    assert grown < RSS_BOUND, f"grew {grown / 2**20:.1f} MiB"
