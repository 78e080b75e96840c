"""Scale: per-request cost and memory with 10^3 to 10^6 tasks in the store, and expiry.

Each store size runs in its own process (``python -m bench.scale --tasks N``), so resident
memory is measured from a clean start. The store is filled quickly with copies of a task
the engine made, each with its own strings as a real request would leave (the measured
per-task memory of tasks created through ``engine.handle`` is reported beside it, from
tracemalloc, to show the copies are faithful). Costs are single calls timed in thread CPU
time (a descheduled call is not a slow one), and the mean includes the garbage collector's
share; the pause of one full collection with the store filled is timed too. The flatness
figure is measured within each process: batches of the same calls on the big store and on
a 100-task engine alternate, and the ratio of their medians is what the store's size
costs, whatever else the machine is doing. The largest size is the default
``limits.max_tasks``: there every create also forgets a task.

Bytes per stored task (target: under 500, 0.5 KB) is the growth of resident memory while
the store fills, over the number of tasks it gained; it is reported at the largest size.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.bare_app import TASK_BODY
from bench.common import BENCH, interleaved, log, median, percentile, ratio, rss_bytes
from sora_mock.contract.messages import Request
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.engine.store.task import Task

SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: Bytes per stored task in memory the mock aims to stay under.
BYTES_PER_TASK_TARGET = 500
HEADERS = {"authorization": "Bearer sk-bench-0123456789", "content-type": "application/json"}
BODY = b'{"model":"sora-character","video_url":"https://example.com/video.mp4","timestamps":"1,3"}'
CREATE = Request.build("POST", "/v1/videos/generations", headers=HEADERS, body=BODY)
TASK = json.loads(TASK_BODY)


def _fresh(text: str) -> str:
    # A new string object with the same value, as parsing each request produces.
    return text.encode().decode()


def fill(engine: Engine, count: int) -> None:
    """Add ``count`` tasks shaped like the engine's own, each with its own strings."""
    template = engine.store.get(json.loads(engine.handle(CREATE).body)["id"])
    assert template is not None
    stamp = int(template.created_at)
    fields = {f.name: getattr(template, f.name) for f in dataclasses.fields(Task)}
    add = engine.store.add
    for index in range(count):
        fields["id"] = f"{engine.tasks.id_prefix}{stamp}-{index:08x}"
        fields["draw"] = index
        for name in ("token", "model", "base_url"):
            fields[name] = _fresh(getattr(template, name))
        add(Task(**fields))


def _timed(fn: Callable[[], object], calls: int) -> list[float]:
    # Thread CPU time, not wall time: on a shared machine a call that was descheduled for a
    # few milliseconds would otherwise pass for a slow call (pauses of our own, such as a
    # garbage collection, still count).
    samples = []
    for _ in range(calls):
        start = time.thread_time_ns()
        fn()
        samples.append((time.thread_time_ns() - start) / 1000)
    return samples


def _costs(samples: list[float], baseline: float) -> dict[str, float]:
    return {
        "median_us": round(median(samples), 2),
        "mean_us": round(sum(samples) / len(samples), 2),
        "p99_us": round(percentile(samples, 99), 2),
        "median_vs_json_dumps": ratio(median(samples), baseline),
    }


def one_size(count: int, calls: int) -> dict[str, Any]:
    """Everything measured at one store size (run in a fresh process)."""
    clock = VirtualClock()
    engine = Engine(clock=clock, seed=1)
    for _ in range(200):  # warm-up, and the journal reaches a steady size
        engine.handle(CREATE)
    gc.collect()
    rss_before, blocks_before = rss_bytes(), sys.getallocatedblocks()
    stored_before = len(engine.store)
    started = time.perf_counter()
    fill(engine, count)
    fill_seconds = time.perf_counter() - started
    gc.collect()
    rss_filled, blocks_filled = rss_bytes(), sys.getallocatedblocks()
    gained = len(engine.store) - stored_before
    # The pause a full collection costs with this many tasks stored: it walks every object
    # the collector tracks, and a server that promotes objects to the oldest generation
    # runs one each time their number has grown by a quarter.
    started = time.perf_counter()
    gc.collect()
    full_collection_seconds = time.perf_counter() - started
    ids = [task.id for task in engine.store]
    rng = random.Random(1)

    def poll() -> object:
        path = f"/v1/tasks/{rng.choice(ids)}"
        return engine.handle(Request.build("GET", path, headers=HEADERS))

    baseline = median(_timed(lambda: json.dumps(TASK), calls))
    create = _timed(lambda: engine.handle(CREATE), calls)
    polls = _timed(poll, calls)
    # The same calls on a 100-task engine in this process, batches alternating with the big
    # one's: the ratio isolates what the store's size costs from the machine's noise.
    small = Engine(clock=VirtualClock(), seed=2)
    small_ids = [json.loads(small.handle(CREATE).body)["id"] for _ in range(100)]

    def poll_small() -> object:
        path = f"/v1/tasks/{rng.choice(small_ids)}"
        return small.handle(Request.build("GET", path, headers=HEADERS))

    alternated = interleaved(
        {
            "create": lambda: engine.handle(CREATE),
            "create_small": lambda: small.handle(CREATE),
            "poll": poll,
            "poll_small": poll_small,
        },
        calls=max(10, calls // 10),
        rounds=9,
    )
    versus_small = {
        op: ratio(median(alternated[op]), median(alternated[f"{op}_small"]))
        for op in ("create", "poll")
    }
    stored = len(engine.store)
    # Past every task's retention, requests (one per mock second, the engine's purge pace)
    # drop them in batches; time the slowest such request and count how many it took.
    clock.advance(max(task.expires_at() for task in engine.store) - clock.now() + 1)
    purge_seconds, purging_requests = 0.0, 0
    unknown = Request.build("GET", "/v1/tasks/task-unified-1-00000000", headers=HEADERS)
    while len(engine.store) and purging_requests < 1000:
        started = time.perf_counter()
        engine.handle(unknown)
        purge_seconds = max(purge_seconds, time.perf_counter() - started)
        purging_requests += 1
        clock.advance(1)
    ids.clear()
    gc.collect()
    return {
        "tasks": count,
        "fill_seconds": round(fill_seconds, 2),
        "bytes_per_stored_task": round((rss_filled - rss_before) / gained, 1),
        "allocated_blocks_per_task": round((blocks_filled - blocks_before) / gained, 2),
        "full_collection_seconds": round(full_collection_seconds, 4),
        "json_dumps_baseline_us": round(baseline, 2),
        "create": _costs(create, baseline),
        "poll": _costs(polls, baseline),
        "vs_100_task_store_same_process": versus_small,
        "expiry": {
            "stored_before": stored,
            "stored_after": len(engine.store),
            "purging_request_seconds": round(purge_seconds, 3),
            "purging_requests": purging_requests,
            "allocated_blocks_left_per_task": round(
                (sys.getallocatedblocks() - blocks_before) / count, 3
            ),
        },
    }


def traced_per_task(count: int = 10_000) -> dict[str, float]:
    """Bytes per task of tasks made by real create requests, from tracemalloc."""
    config = MockConfig.defaults().with_overrides({"limits": {"journal_size": 100}})
    engine = Engine(config=config, clock=VirtualClock(), seed=1)
    for _ in range(200):
        engine.handle(CREATE)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(count):
        engine.handle(CREATE)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"tasks": count, "bytes_per_task": round((after - before) / count, 1)}


def measure(sizes: tuple[int, ...] = SIZES, calls: int = 2000) -> dict[str, Any]:
    """Run every size in its own process and compare each with the smallest."""
    runs = []
    for count in sizes:
        log(f"scale: {count} tasks")
        done = subprocess.run(
            [sys.executable, "-m", "bench.scale", "--tasks", str(count), "--calls", str(calls)],
            capture_output=True,
            text=True,
            check=True,
            cwd=BENCH.parent,
        )
        runs.append(json.loads(done.stdout))
    smallest, largest = runs[0], runs[-1]

    def against_smallest(key: str) -> dict[str, dict[str, float]]:
        return {
            op: {str(run["tasks"]): ratio(run[op][key], smallest[op][key]) for run in runs}
            for op in ("create", "poll")
        }

    per_task = largest["bytes_per_stored_task"]
    return {
        "sizes": runs,
        "bytes_per_stored_task": {
            "tasks": largest["tasks"],
            "bytes": per_task,
            "target": BYTES_PER_TASK_TARGET,
            "under_target": per_task < BYTES_PER_TASK_TARGET,
        },
        "vs_100_task_store_same_process": {
            str(run["tasks"]): run["vs_100_task_store_same_process"] for run in runs
        },
        # Medians of thread CPU time, as they are; and each over its process's json.dumps.
        "cost_vs_smallest_store": against_smallest("median_us"),
        "cost_vs_smallest_store_normalised": against_smallest("median_vs_json_dumps"),
        "traced_real_creates": traced_per_task(),
    }


def main() -> None:
    """Child process: one store size, one JSON document on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(one_size(args.tasks, args.calls)))


if __name__ == "__main__":
    main()
