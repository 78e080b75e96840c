"""The benchmark code itself still runs (tiny sizes; the real run is `make bench`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench import instructions, loadgen, report, scale
from bench.http_bench import _throughput_summary
from sora_mock.engine.core import Engine
from sora_mock.server.runner import BackgroundServer

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


def test_the_open_loop_generator_measures_a_real_server(engine: Engine) -> None:
    with BackgroundServer(engine) as server:
        result = asyncio.run(loadgen.generate(server.base_url, "create", 200, 0.25, 4, []))
    assert result["requests"] == 50
    assert result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert len(engine.store) == 50


def test_one_store_size_is_measured_and_purged() -> None:
    result = scale.one_size(1000, calls=20)
    assert result["expiry"]["stored_before"] >= 1000
    assert result["expiry"]["stored_after"] == 0
    assert result["create"]["median_us"] > 0
    assert result["bytes_per_stored_task"] >= 0
    assert result["full_collection_seconds"] > 0


def test_throughput_summary_compares_medians() -> None:
    def run(rate: float, cpu: float, busy: float = 0.99) -> dict[str, object]:
        errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
        latency = {"p50": 1, "p99": 2}
        return {
            "rate": rate,
            "cpu_us_per_request": cpu,
            "server_busy": busy,
            "errors": errors,
            "latency_us": latency,
        }

    summary = _throughput_summary(
        {"bare": [run(100, 10), run(120, 10), run(80, 10)], "mock": [run(60, 20)] * 3}, 0.5
    )
    assert summary["ratio"] == 0.6
    assert summary["meets_target"] is True
    assert (
        _throughput_summary({"bare": [run(100, 10)], "mock": [run(60, 20)]}, 0.75)["meets_target"]
        is False
    )
    assert summary["cpu_capacity_ratio"] == 0.5
    assert summary["meets_target"] is True
    assert summary["server_bound"] is True
    # The bare app's core idle a third of the time: its rate is not its capacity.
    idle = _throughput_summary({"bare": [run(100, 10, 0.66)] * 3, "mock": [run(60, 20)] * 3}, 0.5)
    assert idle["server_bound"] is False
    assert "client-bound" in report._busy(idle)


def test_callgrind_totals_are_read_by_event_name(tmp_path: Path) -> None:
    dump = tmp_path / "callgrind.out.1"
    dump.write_text("version: 1\nevents: Ir ILmr DLmr DLmw\nfn=x\n1 5 1 2 3\ntotals: 50 4 6 8\n")
    totals = instructions._totals(dump)
    assert totals == {"Ir": 50, "ILmr": 4, "DLmr": 6, "DLmw": 8}
    assert instructions._l2_misses({k: float(v) for k, v in totals.items()}) == 18


def test_misses_in_a_doubled_l2_are_reported_only_where_simulated() -> None:
    def events(ir: float, misses: float) -> dict[str, dict[str, float]]:
        return {"create": {"Ir": ir, "ILmr": misses, "DLmr": 0.0, "DLmw": 0.0}}

    counts = {"bare": events(100.0, 10.0), "mock": events(200.0, 90.0)}
    plain = instructions._per_call("create", counts, None)
    assert plain == {
        "bare": 100.0,
        "mock": 200.0,
        "ratio": 0.5,
        "l2_misses": {"bare": 10.0, "mock": 90.0},
    }
    doubled = instructions._per_call(
        "create", counts, {"bare": events(100.0, 1.0), "mock": events(200.0, 5.0)}
    )
    assert doubled["l2_misses_double"] == {"bare": 1.0, "mock": 5.0}
    results = {
        "calls": 10,
        "warm_up": 3,
        "l2": {"bytes": 524288, "ways": 8, "line_bytes": 64},
        "l2_double": {"bytes": 1048576, "ways": 16, "line_bytes": 64},
        "stacks": {"h11": {"create": plain}, "httptools": {"create": doubled}},
    }
    text = report.summary({"instructions": results})
    assert "| h11 | create | 0k | 0k | 0.500 | 10 / 90 | — |" in text
    assert "| httptools | create | 0k | 0k | 0.500 | 10 / 90 | 1 / 5 |" in text
    assert "1024 KiB, 16-way" in text
    without = {k: v for k, v in results.items() if k != "l2_double"}
    without["stacks"] = {"h11": {"create": plain}}
    assert "16-way" not in report.summary({"instructions": without})


def test_the_simulated_l2_is_this_cores_or_a_plain_default() -> None:
    size, ways, line = instructions.l2_cache()
    assert size % (ways * line) == 0  # callgrind refuses other geometries
    assert instructions.l2_cache(cpu=10**6) == instructions.DEFAULT_L2


@pytest.mark.skipif(not (RESULTS / "http.json").exists(), reason="no benchmark results yet")
def test_the_committed_results_make_a_summary() -> None:
    results = {p.stem: json.loads(p.read_text()) for p in RESULTS.glob("*.json")}
    text = report.summary(results)
    assert "### Throughput" in text
    assert "### Scale" in text


def test_the_throughput_note_says_how_the_rounds_were_run() -> None:
    assert report._spread([0.61, 0.43, 0.5]) == "0.43 – 0.61"
    assert report._spread([0.48]) == "0.48"  # a quick run: one round, no range
    assert "medians of 7 rounds of 2 s" in report._rounds_note({"rounds": 7, "seconds": 2.0})
    assert "one round of 1 s" in report._rounds_note({"rounds": 1, "seconds": 1.0})
