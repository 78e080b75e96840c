"""Benchmark: ``sora-mock check`` against Schemathesis on the same spec and mutant servers.

For each deliberately broken server in ``tests/mutants.py`` (and the controls, which keep
the contract), both tools run as subprocesses, side by side in one run, against the same
server on a free loopback port, with the same number of examples per group and the same
seeds. Measured per tool and run:

- which breaks it finds: for sora-mock, the mutant's rule must be among the failed rules;
  for Schemathesis (which knows nothing of this API's rules), any failure (check code and
  operation) that its run against the control does not also report counts as a find;
- throughput: examples (generated test cases) per second of the tool's own running time;
- time to first found break: from launching the process to the first genuine failure
  (wall clock, so each tool's start-up is included).

Schemathesis is never a dependency of sora-mock: ``bench/setup_schemathesis.sh`` installs it
into ``bench/.venv-schemathesis``. Run::

    python bench/checker_vs_schemathesis.py [--repeat 3] [--max-examples 20] [--only NAME]

Results go to ``bench/results/checker.json``; the summary is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sora_mock.server.runner import BackgroundServer  # noqa: E402
from tests.mutants import CONTROLS, MUTANTS, MutantSpec  # noqa: E402

SCHEMATHESIS = ROOT / "bench" / ".venv-schemathesis" / "bin" / "schemathesis"
SORA_MOCK = Path(sys.executable).parent / "sora-mock"
SPEC = ROOT / "spec" / "sora-character.yaml"
RESULTS = ROOT / "bench" / "results" / "checker.json"
TOKEN, OTHER = "sk-bench-owner-12345", "sk-bench-other-67890"


def run_checker(base_url: str, seed: int, max_examples: int, workdir: Path) -> dict[str, Any]:
    report = workdir / f"check-{seed}.json"
    launched = time.time()
    process = subprocess.run(
        [
            str(SORA_MOCK),
            "check",
            "--base-url",
            base_url,
            "--token",
            TOKEN,
            "--other-token",
            OTHER,
            "--max-examples",
            str(max_examples),
            "--max-tasks",
            "2",
            "--seed",
            str(seed),
            "--poll-interval",
            "0.02",
            "--timeout",
            "5",
            "--json",
            str(report),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.time() - launched
    if process.returncode not in (0, 1):
        raise RuntimeError(f"sora-mock check failed to run: {process.stderr}")
    data = json.loads(report.read_text())
    first = data["first_failure_after_seconds"]
    return {
        "exit_code": process.returncode,
        "wall_seconds": wall,
        "running_seconds": data["duration_seconds"],
        "examples": data["examples"],
        "examples_per_second": data["examples_per_second"],
        "failed": sorted(r["rule"] for r in data["rules"] if r["outcome"] == "fail"),
        "first_failure_seconds": (None if first is None else data["started_at"] + first - launched),
    }


def run_schemathesis(base_url: str, seed: int, max_examples: int, workdir: Path) -> dict[str, Any]:
    events = workdir / f"st-{seed}.ndjson"
    summary = workdir / f"st-{seed}.json"
    launched = time.time()
    process = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            str(SPEC),
            "--url",
            base_url,
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "json,ndjson",
            "--report-json-path",
            str(summary),
            "--report-ndjson-path",
            str(events),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    wall = time.time() - launched
    data = json.loads(summary.read_text())
    failures: list[tuple[float, str]] = []  # (unix time, "CODE operation")
    for line in events.read_text().splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        for checks in event["recorder"].get("checks", {}).values():
            for check in checks:
                info = check.get("failure_info")
                if check.get("status") == "failure" and info:
                    failure = info["failure"]
                    failures.append(
                        (event["timestamp"], f"{failure['code']} {failure.get('operation', '')}")
                    )
    return {
        "exit_code": process.returncode,
        "wall_seconds": wall,
        "running_seconds": data["running_time"],
        "examples": data["test_cases"]["generated"],
        "examples_per_second": data["test_cases"]["generated"] / data["running_time"],
        "failed": sorted({key for _, key in failures}),
        "failure_times": [(stamp - launched, key) for stamp, key in sorted(failures)],
    }


def bench_server(spec: MutantSpec, seeds: list[int], max_examples: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"sora-mock": [], "schemathesis": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            # A fresh server per tool and seed: no state leaks from one run into another.
            for tool, run in (("sora-mock", run_checker), ("schemathesis", run_schemathesis)):
                with BackgroundServer(spec.factory()) as server:
                    runs[tool].append(run(server.base_url, seed, max_examples, Path(tmp)))
    return {"name": spec.name, "breaks": spec.breaks, "rule": spec.rule, "runs": runs}


def judge(result: dict[str, Any], control: dict[str, Any]) -> dict[str, Any]:
    """Which tool found the break in how many runs, and how fast (medians)."""
    verdict: dict[str, Any] = {}
    rule = result["rule"]
    for tool, runs in result["runs"].items():
        if tool == "sora-mock":
            found = [rule in run["failed"] if rule else not run["failed"] for run in runs]
            firsts = [run["first_failure_seconds"] for run in runs if rule in run["failed"]]
        else:
            # Failures the same seed also reports against the control are not finds.
            baseline = [set(run["failed"]) for run in control["runs"]["schemathesis"]]
            found, firsts = [], []
            for index, run in enumerate(runs):
                known = baseline[index % len(baseline)]
                new = [(t, key) for t, key in run["failure_times"] if key not in known]
                found.append(bool(new) if rule else not new)
                if new and rule:
                    firsts.append(new[0][0])
        verdict[tool] = {
            "found": sum(found),
            "runs": len(runs),
            "median_first_break_seconds": _median(firsts),
            "median_examples_per_second": _median([r["examples_per_second"] for r in runs]),
            "median_wall_seconds": _median([r["wall_seconds"] for r in runs]),
            "failed": sorted({f for r in runs for f in r["failed"]}),
        }
    return verdict


def _median(values: list[Any]) -> float | None:
    numbers = [v for v in values if v is not None]
    return round(statistics.median(numbers), 3) if numbers else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="seeds per server (default 3)")
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--only", action="append", help="bench only these mutants (repeatable)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not SCHEMATHESIS.exists():
        print("Schemathesis is missing: run bench/setup_schemathesis.sh first", file=sys.stderr)
        return 2
    seeds = list(range(1, args.repeat + 1))
    control_spec = next(s for s in CONTROLS if s.name == "control")
    chosen = [s for s in (*MUTANTS, *CONTROLS) if not args.only or s.name in args.only]
    started = time.time()
    control = bench_server(control_spec, seeds, args.max_examples)
    control["verdict"] = judge(control, control)
    rows = []
    for spec in chosen:
        if spec is control_spec:
            result = control
        else:
            result = bench_server(spec, seeds, args.max_examples)
            result["verdict"] = judge(result, control)
        rows.append(result)
        print(_line(result), flush=True)
    summary = _summary(rows, control)
    output = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.time() - started, 1),
        "settings": {
            "repeat": args.repeat,
            "max_examples": args.max_examples,
            "schemathesis": _schemathesis_version(),
            "python": sys.version.split()[0],
            "cores": os.cpu_count(),
        },
        "summary": summary,
        "servers": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


def _line(result: dict[str, Any]) -> str:
    parts = [f"{result['name']:<28}"]
    for tool, verdict in result["verdict"].items():
        first = verdict["median_first_break_seconds"]
        parts.append(
            f"{tool}: {verdict['found']}/{verdict['runs']}"
            f" first {'-' if first is None else f'{first:.2f}s'}"
            f" {verdict['median_examples_per_second']:.0f} ex/s"
        )
    return "  ".join(parts)


def _summary(rows: list[dict[str, Any]], control: dict[str, Any]) -> dict[str, Any]:
    mutants = [r for r in rows if r["rule"] is not None]
    summary: dict[str, Any] = {"mutants": len(mutants)}
    for tool in ("sora-mock", "schemathesis"):
        killed = [r for r in mutants if r["verdict"][tool]["found"] == r["verdict"][tool]["runs"]]
        any_run = [r for r in mutants if r["verdict"][tool]["found"] > 0]
        summary[tool] = {
            "kill_rate": round(len(killed) / len(mutants), 3) if mutants else None,
            "killed_in_every_run": sorted(r["name"] for r in killed),
            "killed_in_some_run": len(any_run),
            "median_first_break_seconds": _median(
                [r["verdict"][tool]["median_first_break_seconds"] for r in mutants]
            ),
            "median_examples_per_second": _median(
                [r["verdict"][tool]["median_examples_per_second"] for r in rows]
            ),
            "control_failures": control["verdict"][tool]["failed"],
        }
    ours, theirs = summary["sora-mock"], summary["schemathesis"]
    both = [
        r for r in mutants
        if r["verdict"]["sora-mock"]["median_first_break_seconds"] is not None
        and r["verdict"]["schemathesis"]["median_first_break_seconds"] is not None
    ]  # fmt: skip
    summary["ratios"] = {
        "throughput_sora_mock_over_schemathesis": _ratio(
            ours["median_examples_per_second"], theirs["median_examples_per_second"]
        ),
        "first_break_schemathesis_over_sora_mock_median": _median(
            [
                r["verdict"]["schemathesis"]["median_first_break_seconds"]
                / r["verdict"]["sora-mock"]["median_first_break_seconds"]
                for r in both
            ]
        ),
        "mutants_found_by_both": len(both),
    }
    return summary


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(a / b, 2)


def _schemathesis_version() -> str:
    out = subprocess.run([str(SCHEMATHESIS), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
