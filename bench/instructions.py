"""Instructions per request inside the server: ``sora-mock serve`` against the bare app.

Wall-clock rates on a shared 2-core machine swing by ±15% between runs; the number of
instructions a server executes per request does not. valgrind's callgrind counts them. Each
server (started exactly as for the throughput runs) runs under callgrind with counting off;
after start-up and a warm-up, counting is switched on for exactly ``calls`` requests of one
kind, sent one after another on one keep-alive connection, then the counters are dumped.
So everything the server process does for those requests counts (uvicorn, the parser, the
event loop, the app) and nothing else does. The ratio bare/mock is the load-independent
counterpart of the throughput ratio: a server that executes twice the instructions per
request answers about half as many requests per second, or fewer when its code and data fit
the caches less well. So callgrind also simulates the caches, with this core's L2 as the
last level, and counts the misses in it per request: each costs tens of cycles that the
instruction count does not show. For the stacks asked for, both servers are counted again
with a simulated L2 twice as large: the misses that go away there are code and data that
overflow this core's L2, not misses a larger cache could not save. Counts still vary by
about 1.5% between runs: the mock's clock is real, so when it purges expired tasks and when
the collector runs can vary.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import BENCH, log, ratio
from bench.http_bench import CREATE_BODY, TOKEN, Stack, serve

#: Requests sent before counting starts (imports, caches, specialised bytecode settle).
WARM_UP = 300
#: Tasks created for the polls to read, round robin.
POLLED_TASKS = 256

_BODY = json.dumps(CREATE_BODY, separators=(",", ":")).encode()
_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


#: The simulated L2 when sysfs does not describe one: size in bytes, ways, line bytes.
DEFAULT_L2 = (512 * 1024, 8, 64)


def measure(stacks: list[Stack], *, calls: int, double_l2: Collection[str] = ()) -> dict[str, Any]:
    """Instructions and L2 misses per create and per poll, mock and bare, on each stack; for
    the stacks named in ``double_l2``, also the misses in an L2 twice this core's size."""
    l2 = l2_cache()
    size, ways, line = l2
    doubled = (2 * size, 2 * ways, line)  # as many sets, so callgrind accepts the geometry
    results: dict[str, Any] = {}
    for stack in stacks:
        commands = _commands(stack)
        per_app = {app: _count(stack, app, command, calls, l2) for app, command in commands.items()}
        in_double = (
            {app: _count(stack, app, command, calls, doubled) for app, command in commands.items()}
            if stack.name in double_l2
            else None
        )
        results[stack.name] = {op: _per_call(op, per_app, in_double) for op in ("create", "poll")}
    measured = {
        "calls": calls,
        "warm_up": WARM_UP,
        "l2": _geometry(l2),
        "stacks": results,
    }
    if any(stack.name in double_l2 for stack in stacks):
        measured["l2_double"] = _geometry(doubled)
    return measured


def _geometry(l2: tuple[int, int, int]) -> dict[str, int]:
    size, ways, line = l2
    return {"bytes": size, "ways": ways, "line_bytes": line}


def _per_call(
    op: str,
    counts: dict[str, dict[str, dict[str, float]]],
    in_double: dict[str, dict[str, dict[str, float]]] | None,
) -> dict[str, Any]:
    """One call's figures from each app's counts (``counts[app][op][event]``)."""
    bare, mock = counts["bare"][op]["Ir"], counts["mock"][op]["Ir"]
    figures = {
        "bare": bare,
        "mock": mock,
        "ratio": ratio(bare, mock),
        "l2_misses": {app: _l2_misses(counts[app][op]) for app in counts},
    }
    if in_double is not None:
        figures["l2_misses_double"] = {app: _l2_misses(in_double[app][op]) for app in in_double}
    return figures


def l2_cache(cpu: int = 0) -> tuple[int, int, int]:
    """Size, ways and line size of ``cpu``'s L2 cache (sysfs), else :data:`DEFAULT_L2`."""
    for index in Path(f"/sys/devices/system/cpu/cpu{cpu}/cache").glob("index*"):
        try:
            if (index / "level").read_text().strip() == "2":
                size = (index / "size").read_text().strip()  # sysfs writes "512K"
                return (
                    int(size.removesuffix("K")) * 1024,
                    int((index / "ways_of_associativity").read_text()),
                    int((index / "coherency_line_size").read_text()),
                )
        except (OSError, ValueError):
            break
    return DEFAULT_L2


def _l2_misses(counts: dict[str, float]) -> float:
    """Misses in the simulated last level: instruction reads, data reads and data writes."""
    return counts["ILmr"] + counts["DLmr"] + counts["DLmw"]


def _commands(stack: Stack) -> dict[str, list[str]]:
    mock = [str(stack.bin / "sora-mock"), "serve", "--port", "0", "--quiet", "--seed", "1"]
    mock += ["--speed", "1000", "--config", str(BENCH / "mock-bench.yaml"), "--http", stack.http]
    bare = [str(stack.python), "-m", "bench.bare_app", "--port", "0", "--http", stack.http]
    return {"bare": bare, "mock": mock}


def _count(
    stack: Stack, app: str, command: list[str], calls: int, l2: tuple[int, int, int]
) -> dict[str, dict[str, float]]:
    """callgrind's events (``Ir``, ``DLmr`` ...) per request of each kind, for one server."""
    kib = l2[0] // 1024
    log(
        f"{stack.name}: counting the {app} app's instructions "
        f"(callgrind, {calls} calls, {kib} KiB L2)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        # A fixed hash seed: string hashes (and so dict probing) come out the same each run.
        valgrind = ["env", "PYTHONHASHSEED=0", "valgrind", "--tool=callgrind", "--instr-atstart=no"]
        valgrind += ["--cache-sim=yes", "--LL={},{},{}".format(*l2), f"--callgrind-out-file={out}"]
        slug = f"{app}-{stack.name.replace('+', '-')}-callgrind-{kib}k"
        with serve([*valgrind, *command], slug, start_timeout=600) as served:
            address = urlsplit(served.url)
            connection = _connect(address.hostname or "127.0.0.1", address.port or 80)
            ids = [_create(connection) for _ in range(POLLED_TASKS)]
            for i in range(WARM_UP):
                _create(connection)
                _poll(connection, ids[i % len(ids)])
            per_call: dict[str, dict[str, float]] = {}
            for dump, op in enumerate(("create", "poll"), start=1):
                _control(served.process.pid, "--instr=on")
                for i in range(calls):
                    if op == "create":
                        _create(connection)
                    else:
                        _poll(connection, ids[i % len(ids)])
                _control(served.process.pid, "--instr=off")
                _control(served.process.pid, "--dump")
                totals = _totals(Path(f"{out}.{dump}"))
                per_call[op] = {event: count / calls for event, count in totals.items()}
            connection.close()
    return per_call


def _connect(host: str, port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection(host, port, timeout=120)
    connection.connect()
    return connection


def _create(connection: http.client.HTTPConnection) -> str:
    connection.request("POST", "/v1/videos/generations", _BODY, _HEADERS)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"create answered {response.status}: {body[:200]!r}")
    task_id: str = json.loads(body)["id"]
    return task_id


def _poll(connection: http.client.HTTPConnection, task_id: str) -> None:
    connection.request("GET", f"/v1/tasks/{task_id}", headers=_HEADERS)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"poll answered {response.status}")


def _control(pid: int, action: str) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True, capture_output=True)


def _totals(dump: Path) -> dict[str, int]:
    """Each event's total in one callgrind dump file, by event name."""
    for _ in range(100):  # callgrind writes the dump when its target next runs
        if dump.exists():
            text = dump.read_text()
            events = re.search(r"^events: (.+)$", text, re.MULTILINE)
            totals = re.search(r"^totals: (.+)$", text, re.MULTILINE)
            if events and totals:
                return dict(zip(events[1].split(), map(int, totals[1].split()), strict=True))
        time.sleep(0.1)
    raise RuntimeError(f"callgrind wrote no totals to {dump}")
