"""The summary of ``bench/results/*.json`` that ``bench/README.md`` carries."""

from __future__ import annotations

from typing import Any

from bench.common import BENCH
from bench.http_bench import SATURATED_BUSY

START = "<!-- results:start (written by python -m bench; do not edit by hand) -->"
END = "<!-- results:end -->"


def _pair(misses: dict[str, float] | None) -> str:
    """``bare / mock`` misses per request, or a dash where they were not simulated."""
    return f"{misses['bare']:.0f} / {misses['mock']:.0f}" if misses else "—"


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _full_collection(run: dict[str, Any]) -> str:
    seconds = run.get("full_collection_seconds")  # results from before it was measured
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"


def _busy(throughput: dict[str, Any]) -> str:
    bare, mock = (throughput[app]["median_server_busy"] for app in ("bare", "mock"))
    shown = f"{bare:.0%} / {mock:.0%}"
    return shown if throughput["server_bound"] else f"{shown} (*client-bound*)"


def _spread(ratios: list[float]) -> str:
    low, high = min(ratios), max(ratios)
    return f"{low:.2f}" if len(ratios) == 1 else f"{low:.2f} – {high:.2f}"


def _rounds_note(settings: dict[str, Any]) -> str:
    rounds, seconds = settings["rounds"], f"{settings['seconds']:g} s"
    if rounds == 1:
        return f"Rates are from one round of {seconds} per call and app (a quick run)."
    return f"Rates are medians of {rounds} rounds of {seconds}, the apps in turn."


def _baseline(throughput: dict[str, Any]) -> str:
    """This tree's rate as a share of the ``--baseline`` checkout's, with its rounds' range."""
    if "baseline_ratio" not in throughput:
        return "—"
    return f"{throughput['baseline_ratio']:.2f} ({_spread(throughput['baseline_round_ratios'])})"


def _state(throughput: dict[str, Any]) -> str:
    """The state-file server's rate as a share of the in-memory one's, with its target and
    its rounds' range."""
    if "state_ratio" not in throughput:  # results from before it was measured
        return "—"
    return (
        f"{throughput['state_ratio']:.2f} (≥ {throughput['state_target']:g}: "
        f"{_yes(throughput['state_meets_target'])}; "
        f"{_spread(throughput['state_round_ratios'])}; CPU time "
        f"{throughput['state_cpu_ratio']:.2f})"
    )


def summary(results: dict[str, Any]) -> str:
    """Markdown tables of the headline figures, with their targets."""
    lines: list[str] = []
    http = results.get("http")
    if http:
        compared = any(
            "baseline_ratio" in t
            for data in http["stacks"].values()
            for t in data["throughput"].values()
        )
        lines += [
            "### Throughput: `sora-mock serve` against a bare ASGI app (same uvicorn settings)",
            "",
            "| stack | call | bare req/s | mock req/s | ratio (target) | rounds, lowest "
            "– highest | CPU-time ratio | server core busy, bare / mock | `--state` file / "
            "memory (target; rounds; CPU-time ratio) |"
            + (" vs `--baseline` tree (rounds) |" if compared else ""),
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if compared else ""),
        ]
        for stack, data in http["stacks"].items():
            for op, t in data["throughput"].items():
                lines.append(
                    f"| {stack} | {op} | {t['bare']['median_rate']:.0f} | "
                    f"{t['mock']['median_rate']:.0f} | {t['ratio']:.2f} "
                    f"(≥ {t.get('target', 0.5):g}: {_yes(t['meets_target'])}) | "
                    f"{_spread(t['round_ratios'])} | "
                    f"{t['cpu_capacity_ratio']:.2f} | {_busy(t)} | {_state(t)} |"
                    + (f" {_baseline(t)} |" if compared else "")
                )
        lines += [
            "",
            _rounds_note(http["settings"])
            + f" *Client-bound*: the bare app's core was busy under {SATURATED_BUSY:.0%} of "
            "the run, so the load generator set the pace and the ratio overstates the mock.",
            "",
            "### Latency at a fixed rate (open loop, 30% of the mock's saturated rate)",
            "",
            "| stack | call | rate/s | bare p50 / p99 ms | mock p50 / p99 ms | mock kept up |",
            "|---|---|---|---|---|---|",
        ]
        for stack, data in http["stacks"].items():
            for op, lat in data["latency"].items():
                bare, mock = lat["bare"], lat["mock"]
                lines.append(
                    f"| {stack} | {op} | {lat['rate']} | {bare['p50_ms']:.2f} / "
                    f"{bare['p99_ms']:.2f} | {mock['p50_ms']:.2f} / {mock['p99_ms']:.2f} | "
                    f"{_yes(lat['mock_kept_up'])} |"
                )
        lines.append("")
    counted = results.get("instructions")
    if counted:
        lines += [
            "### Instructions per request inside the server (callgrind: counts, not times)",
            "",
            "| stack | call | bare | mock | ratio bare/mock (≥ 0.5 is half the work) "
            "| L2 misses, bare / mock | in an L2 twice as large |",
            "|---|---|---|---|---|---|---|",
        ]
        for stack, per_op in counted["stacks"].items():
            for op, c in per_op.items():
                lines.append(
                    f"| {stack} | {op} | {c['bare'] / 1000:.0f}k | {c['mock'] / 1000:.0f}k | "
                    f"{c['ratio']:.3f} | {_pair(c['l2_misses'])} | "
                    f"{_pair(c.get('l2_misses_double'))} |"
                )
        l2, double = counted["l2"], counted.get("l2_double")
        lines += [
            "",
            f"{counted['calls']} requests of each kind after {counted['warm_up']} of each, "
            f"on one connection. L2 misses in a simulated {l2['bytes'] // 1024} KiB, "
            f"{l2['ways']}-way L2 (this core's)"
            + (
                f"; where shown, also in a {double['bytes'] // 1024} KiB, {double['ways']}-way one."
                if double
                else "."
            ),
            "",
        ]
    inproc = results.get("inprocess")
    if inproc:
        r, t = inproc["ratios"], inproc["targets"]
        lines += [
            "### In-process",
            "",
            "| measure | median | against | ratio | target |",
            "|---|---|---|---|---|",
            f"| create through `sora_mock.mock()`, default door ({inproc['default_door']})"
            f" | {inproc[inproc['default_door'] + '_door_create']['median_us']:.0f} µs"
            f" | static respx route: {inproc['respx_fixed_create']['median_us']:.0f} µs"
            f" | {r[inproc['default_door'] + '_door_vs_respx_route']:.2f} | ≤ 1.2: "
            f"{_yes(t['default_door_vs_respx_route_at_most_1_2'])} |",
            *(
                f'| same, `via="{via}"` | {inproc[via + "_door_create"]["median_us"]:.0f} µs'
                f" | static respx route | {r[via + '_door_vs_respx_route']:.2f} | |"
                for via in ("transport", "respx")
                if via != inproc["default_door"]
            ),
            f"| `engine.handle(create)` | {inproc['engine_create']['median_us']:.0f} µs"
            f" | `json.dumps` of a task: {inproc['json_dumps_fixed_body']['median_us']:.1f} µs"
            f" | {r['engine_create_vs_json_dumps']:.1f} | |",
            f"| lifecycle (create, clock +150 s, poll: completed), default door"
            f" | {inproc['lifecycle_default_door']['median_us'] / 1000:.2f} ms"
            f" | respx create + get: {inproc['respx_fixed_create_and_get']['median_us']:.0f} µs"
            f" | {r['lifecycle_default_door_vs_respx_create_and_get']:.2f}"
            f" | < 2 ms: {_yes(t['lifecycle_default_door_under_2ms'])} |",
            f"| same lifecycle, engine only | {inproc['lifecycle_engine']['median_us'] / 1000:.2f}"
            f" ms | | | < 2 ms: {_yes(t['lifecycle_engine_under_2ms'])} |",
            "",
        ]
    sc = results.get("scale")
    if sc:
        lines += [
            "### Scale: tasks in the store",
            "",
            "| tasks | create: µs, mean µs, vs 100 tasks | poll: µs, mean µs, vs 100 tasks "
            "| bytes per stored task | full collection "
            "| expiry: slowest purging request, requests "
            "| left after |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in sc["sizes"]:
            versus = run["vs_100_task_store_same_process"]
            per_task = run.get("bytes_per_stored_task", run.get("rss_growth_bytes_per_task"))
            rss = per_task if run["tasks"] >= 10_000 else None
            lines.append(
                f"| {run['tasks']:,}"
                f" | {run['create']['median_us']:.0f}, {run['create']['mean_us']:.0f},"
                f" {versus['create']:.2f}"
                f" | {run['poll']['median_us']:.0f}, {run['poll']['mean_us']:.0f},"
                f" {versus['poll']:.2f}"
                f" | {'—' if rss is None else f'{rss:.0f}'}"
                f" | {_full_collection(run)}"
                f" | {run['expiry']['purging_request_seconds']:.3f} s,"
                f" {run['expiry'].get('purging_requests', 1)}"
                f" | {run['expiry']['stored_after']} tasks |"
            )
        traced = sc["traced_real_creates"]
        stored = sc.get("bytes_per_stored_task")
        if stored:
            lines += [
                "",
                f"Bytes per stored task in memory at {stored['tasks']:,} tasks (resident memory"
                " gained while the store fills, each task with its own strings): "
                f"{stored['bytes']:.0f}; under {stored['target']} (0.5 KB):"
                f" {_yes(stored['under_target'])}.",
            ]
        lines += [
            "",
            "Thread CPU time per call (the mean includes garbage collection); flat = 1.0. "
            "Tasks made by real create requests take "
            f"{traced['bytes_per_task']:.0f} bytes each (tracemalloc, {traced['tasks']:,} tasks).",
            "",
        ]
    st = results.get("startup")
    if st:
        ratios = st["ratios_vs_python_pass"]
        lines += [
            f"### Start-up (against `python -c pass`: {st['python_pass']['median_ms']:.0f} ms)",
            "",
            "| what | median | ratio |",
            "|---|---|---|",
            f"| `import sora_mock` | {st['import_sora_mock']['median_ms']:.0f} ms | "
            f"{ratios['import_sora_mock']:.2f} |",
            f"| `from sora_mock import Engine` | {st['import_engine']['median_ms']:.0f} ms | "
            f"{ratios['import_engine']:.2f} |",
            f"| `sora-mock serve` until `/__mock/health` answers | "
            f"{st['serve_until_healthy']['median_ms']:.0f} ms | "
            f"{ratios['serve_until_healthy']:.2f} |",
            "",
        ]
    val = results.get("validation")
    if val:
        per = val["per_request"]
        lines += [
            "### Validation of a create request",
            "",
            "| validator | median per request | openapi-core is |",
            "|---|---|---|",
            f"| compiled schema (jsonschema-rs) | {per['compiled_schema_only']['median_us']:.1f}"
            f" µs | {val['openapi_core_vs_compiled_schema_only']:.0f}× slower |",
            f"| JSON parse + compiled schema (the server's path) | "
            f"{per['compiled_with_json_parse']['median_us']:.1f} µs | "
            f"{val['openapi_core_vs_compiled_with_parse']:.0f}× slower |",
            f"| openapi-core (whole request) | {per['openapi_core']['median_us']:.0f} µs | |",
            "",
            f"Both validators agree on every request: {_yes(val['verdicts_agree'])}.",
            "",
        ]
    env = next((r["environment"] for r in results.values() if "environment" in r), None)
    if env:
        quick = any(r.get("quick") for r in results.values())
        lines.append(
            f"Measured {env['time']} on {env['cpus']} CPUs, Python {env['python']}, load "
            f"average {env['load_average'][0]} at the end"
            + (" (**quick run**: smoke-test settings, not figures to quote)." if quick else ".")
        )
    return "\n".join(lines).rstrip() + "\n"


def update_readme(results: dict[str, Any]) -> None:
    """Replace the results section of ``bench/README.md`` with :func:`summary`."""
    readme = BENCH / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{summary(results)}{END}{tail}")
