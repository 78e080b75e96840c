"""``python -m bench``: run the benchmarks, write ``bench/results/*.json`` and the summary.

Usage: ``python -m bench [--quick] [--only NAME ...] [--no-fast]``; ``bench/run.sh`` (and
``make bench``) call this from the project's ``.venv``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import http_bench, inprocess, instructions, scale, startup, validation
from bench.common import RESULTS, log, write_result
from bench.report import update_readme
from bench.tools import ensure_valgrind, ensure_wrk, fast_python, project_python

SUITES = ("http", "instructions", "inprocess", "scale", "startup", "validation")


#: The stack of the ``fast`` extra, where the throughput target is tightest.
FAST_STACK = "httptools+uvloop"


def _stacks(fast: bool) -> list[http_bench.Stack]:
    # The project's .venv has httptools too (the tests use both protocols): say which.
    stacks = [http_bench.Stack("h11+asyncio", project_python(), "h11", target=0.75)]
    if fast:
        stacks.append(http_bench.Stack(FAST_STACK, fast_python(), "httptools", target=0.5))
    return stacks


def _http(quick: bool, fast: bool, baseline: Path | None) -> dict[str, Any]:
    ensure_wrk()
    stacks = _stacks(fast)
    # Many short rounds rather than a few long ones: on a shared host the rate of both
    # servers drifts by a third within minutes, and a median of paired rounds rides it out.
    rounds, seconds, latency_seconds = (1, 1.0, 1.0) if quick else (7, 2.0, 3.0)
    measured = {
        stack.name: http_bench.measure_stack(
            stack,
            rounds=rounds,
            seconds=seconds,
            connections=16,
            latency_seconds=latency_seconds,
            baseline=baseline,
        )
        for stack in stacks
    }
    settings = {
        "rounds": rounds,
        "seconds": seconds,
        "latency_seconds": latency_seconds,
        "connections": 16,
        "baseline": str(baseline) if baseline else None,
    }
    return {"settings": settings, "stacks": measured}


def _instructions(quick: bool, fast: bool) -> dict[str, Any]:
    ensure_valgrind()
    # Where the throughput target is tight (the fast stack), also ask how much of the gap is
    # this core's L2 overflowing: the same counts in a simulated L2 twice as large.
    calls = 300 if quick else 2000
    return instructions.measure(_stacks(fast), calls=calls, double_l2={FAST_STACK})


def main() -> None:
    """Run the chosen suites and write their results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--only", nargs="+", choices=SUITES, help="run only these suites")
    parser.add_argument(
        "--no-fast", action="store_true", help="skip the uvicorn[standard] (httptools) stack"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout of sora-mock (set up: .venv, .venv-bench) whose server joins "
        "the throughput rounds, for a same-run comparison",
    )
    args = parser.parse_args()
    quick = args.quick
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "http": lambda: _http(quick, not args.no_fast, args.baseline),
        "instructions": lambda: _instructions(quick, not args.no_fast),
        "inprocess": lambda: inprocess.measure(rounds=3 if quick else 9),
        "scale": lambda: scale.measure(
            sizes=scale.SIZES[:2] if quick else scale.SIZES, calls=200 if quick else 2000
        ),
        "startup": lambda: startup.measure(rounds=2 if quick else 7),
        "validation": lambda: validation.measure(rounds=3 if quick else 9),
    }
    started = time.perf_counter()
    for name in args.only or SUITES:
        suite_started = time.perf_counter()
        result = runners[name]()
        elapsed = round(time.perf_counter() - suite_started, 1)
        path = write_result(name, {"quick": quick, "seconds": elapsed, **result})
        log(f"{name}: {elapsed} s, wrote {path.relative_to(RESULTS.parent.parent)}")
    results = {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}
    update_readme(results)
    log(f"done in {time.perf_counter() - started:.0f} s; summary in bench/README.md")


if __name__ == "__main__":
    main()
