"""Instructions per request inside the server: ``sora-mock serve`` against the bare app.

Wall-clock rates on a shared 2-core machine swing by ±15% between runs; the number of
instructions a server executes per request does not. valgrind's callgrind counts them. Each
server (started exactly as for the throughput runs) runs under callgrind with counting off;
after start-up and a warm-up, counting is switched on for exactly ``calls`` requests of one
kind, sent one after another on one keep-alive connection, then the counters are dumped.
So everything the server process does for those requests counts (uvicorn, the parser, the
event loop, the app) and nothing else does. The ratio bare/mock is the load-independent
counterpart of the throughput ratio: a server that executes twice the instructions per
request answers about half as many requests per second (a little fewer when its code and
data fit the caches less well). Counts still vary by about 1.5% between runs: the mock's
clock is real, so when it purges expired tasks and when the collector runs can vary.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import tempfile
import time
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


def measure(stacks: list[Stack], *, calls: int) -> dict[str, Any]:
    """Instructions per create and per poll, mock and bare, on each stack."""
    results: dict[str, Any] = {}
    for stack in stacks:
        per_app = {
            app: _count(stack, app, command, calls) for app, command in _commands(stack).items()
        }
        results[stack.name] = {
            op: {
                "bare": per_app["bare"][op],
                "mock": per_app["mock"][op],
                "ratio": ratio(per_app["bare"][op], per_app["mock"][op]),
            }
            for op in ("create", "poll")
        }
    return {"calls": calls, "warm_up": WARM_UP, "stacks": results}


def _commands(stack: Stack) -> dict[str, list[str]]:
    mock = [str(stack.bin / "sora-mock"), "serve", "--port", "0", "--quiet", "--seed", "1"]
    mock += ["--speed", "1000", "--config", str(BENCH / "mock-bench.yaml")]
    return {"bare": [str(stack.python), "-m", "bench.bare_app", "--port", "0"], "mock": mock}


def _count(stack: Stack, app: str, command: list[str], calls: int) -> dict[str, float]:
    """Instructions per request of each kind, for one server under callgrind."""
    log(f"{stack.name}: counting the {app} app's instructions (callgrind, {calls} calls each)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        # A fixed hash seed: string hashes (and so dict probing) come out the same each run.
        valgrind = ["env", "PYTHONHASHSEED=0", "valgrind", "--tool=callgrind", "--instr-atstart=no"]
        valgrind.append(f"--callgrind-out-file={out}")
        slug = f"{app}-{stack.name.replace('+', '-')}-callgrind"
        with serve([*valgrind, *command], slug, start_timeout=600) as served:
            address = urlsplit(served.url)
            connection = _connect(address.hostname or "127.0.0.1", address.port or 80)
            ids = [_create(connection) for _ in range(POLLED_TASKS)]
            for i in range(WARM_UP):
                _create(connection)
                _poll(connection, ids[i % len(ids)])
            per_call: dict[str, float] = {}
            for dump, op in enumerate(("create", "poll"), start=1):
                _control(served.process.pid, "--instr=on")
                for i in range(calls):
                    if op == "create":
                        _create(connection)
                    else:
                        _poll(connection, ids[i % len(ids)])
                _control(served.process.pid, "--instr=off")
                _control(served.process.pid, "--dump")
                per_call[op] = _total(Path(f"{out}.{dump}")) / calls
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


def _total(dump: Path) -> int:
    """The instruction total of one callgrind dump file."""
    for _ in range(100):  # callgrind writes the dump when its target next runs
        if dump.exists():
            match = re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)
            if match:
                return int(match.group(1))
        time.sleep(0.1)
    raise RuntimeError(f"callgrind wrote no totals to {dump}")
