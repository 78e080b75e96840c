"""Shared helpers: statistics, interleaved timing, CPU pinning and result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"

#: The server runs on this core and every load generator on the other (2-core machines).
SERVER_CPU = 0
CLIENT_CPU = 1


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ratio(a: float, b: float) -> float:
    """``a / b`` rounded for reports (NaN when ``b`` is zero)."""
    return round(a / b, 3) if b else float("nan")


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    """Mean microseconds per call of ``fn`` over ``calls`` back-to-back calls."""
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1000


def interleaved(
    subjects: dict[str, Callable[[], object]], *, calls: int, rounds: int
) -> dict[str, list[float]]:
    """Per-call microseconds of each subject, one batch of ``calls`` each per round.

    Subjects alternate within every round so that noise from other processes on a shared
    machine hits each of them alike; compare their medians, never a single batch.
    """
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for name, fn in subjects.items():  # warm-up: caches, lazy imports, first allocations
        per_call_us(fn, max(1, calls // 10))
        samples[name].clear()
    for _ in range(rounds):
        for name, fn in subjects.items():
            samples[name].append(per_call_us(fn, calls))
    return samples


def summary_us(samples: Sequence[float]) -> dict[str, float]:
    """Median and spread of per-call samples, in microseconds."""
    return {
        "median_us": round(median(samples), 2),
        "min_us": round(min(samples), 2),
        "max_us": round(max(samples), 2),
        "rounds": len(samples),
    }


def pin(cpu: int) -> list[str]:
    """A command prefix that runs a process on ``cpu`` only (empty if taskset is missing)."""
    if os.cpu_count() and os.cpu_count() == 1:  # nothing to separate on one core
        return []
    return ["taskset", "-c", str(cpu)] if _has("taskset") else []


def pin_self(cpu: int) -> None:
    """Run the current process on ``cpu`` only, where the platform allows."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(0, {cpu})


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in load],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (atomically) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"environment": environment(), **data}, indent=2) + "\n")
    tmp.replace(path)
    return path


def rss_bytes() -> int:
    """Resident set size of this process (Linux), in bytes."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def run(cmd: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``, capturing text output; raise with its stderr if it fails."""
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def log(message: str) -> None:
    """Progress for the person running the benchmark."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None
