"""An open-loop load generator for latency at a fixed request rate (wrk2 is not in Debian).

Requests are scheduled at fixed intervals (``rate`` per second) whatever the server does,
and each latency is measured from the request's *scheduled* time, not from when a free
connection let it go out: a stalled server therefore shows up in the percentiles instead
of silently slowing the generator down (no coordinated omission). Requests go over a pool
of keep-alive HTTP/1.1 connections on loopback; the generator runs pinned to its own core.

Run: ``python -m bench.loadgen URL --kind create|poll --rate 500 --duration 3 [--ids FILE]``;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import CLIENT_CPU, percentile, pin_self

TOKEN = "sk-bench-0123456789"
CREATE_BODY = (
    b'{"model":"sora-character","video_url":"https://example.com/video.mp4","timestamps":"1,3"}'
)


def request_bytes(kind: str, host: str, task_id: str = "") -> bytes:
    """The raw HTTP/1.1 request for one call."""
    if kind == "create":
        head = (
            f"POST /v1/videos/generations HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(CREATE_BODY)}\r\n\r\n"
        )
        return head.encode() + CREATE_BODY
    return (
        f"GET /v1/tasks/{task_id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    ).encode()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def generate(
    url: str, kind: str, rate: float, duration: float, connections: int, ids: list[str]
) -> dict[str, float | int]:
    """Send ``rate * duration`` requests on schedule; latencies in milliseconds."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    total = int(rate * duration)
    payloads = [
        request_bytes(kind, parts.netloc, ids[i % len(ids)] if ids else "")
        for i in range(min(total, 4096))
    ]
    latencies: list[float] = []
    errors = 0

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors
        reader, writer = await pool.get()
        try:
            status = await _exchange(reader, writer, payloads[index % len(payloads)])
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            reader, writer = await asyncio.open_connection(host, port)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        pool.put_nowait((reader, writer))

    tasks = []
    start = time.perf_counter()
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return {
        "target_rate": rate,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p90_ms": round(percentile(latencies, 90), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(max(latencies), 3),
    }


def main() -> None:
    """Command line: one run, one JSON line on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--kind", choices=["create", "poll"], required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--ids", help="file of task ids to poll, one a line")
    args = parser.parse_args()
    pin_self(CLIENT_CPU)
    ids = Path(args.ids).read_text().split() if args.ids else []
    result = asyncio.run(
        generate(args.url, args.kind, args.rate, args.duration, args.connections, ids)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
