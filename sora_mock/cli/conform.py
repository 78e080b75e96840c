"""``sora-mock conform``: check a client in any language against the contract."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sora_mock.cli.options import (
    add_spec_option,
    count,
    non_negative_number,
    positive_number,
    refuse_unwritable,
    spec_contract,
    whole,
)


def register(subparsers: Any) -> None:
    """Add ``conform`` to the command line."""
    parser = subparsers.add_parser(
        "conform",
        help="run a client through the conformance matrix and check the rules",
        description=(
            "Run COMMAND once per situation against a real mock server (SORA_BASE_URL, "
            "SORA_API_KEY, SORA_MODEL, SORA_REQUEST_BODY and, when the body has a URL field, "
            "SORA_VIDEO_URL are set for it), read its exit code and an optional JSON outcome "
            "on the last line of stdout, and check what it sent. Exit 0 when every rule is "
            "kept, 1 when one is broken, 2 on a usage error."
        ),
        examples=(
            "sora-mock conform --list",
            'sora-mock conform --run "python examples/clients/polite_client.py"',
            "sora-mock conform --run ./my-client -k 'poll-*,slow'",
        ),
    )
    parser.add_argument("--run", metavar="COMMAND", help="the client command (run by the shell)")
    add_spec_option(parser)
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="the model the client uses (default: the first model of the spec)",
    )
    parser.add_argument(
        "--situations",
        "-k",
        metavar="PATTERNS",
        help="comma-separated names or globs of situations to run (default: all)",
    )
    parser.add_argument("--list", action="store_true", help="list the situations and exit")
    parser.add_argument(
        "--speed",
        type=positive_number,
        default=50.0,
        help="mock seconds per real second (default 50: a 150 s task takes 3 s)",
    )
    parser.add_argument(
        "--time-limit",
        type=positive_number,
        default=120.0,
        metavar="SECONDS",
        help="real seconds a run may take before it is stopped (default 120)",
    )
    parser.add_argument(
        "--jobs", type=whole(1), default=8, help="situations run at once (default 8)"
    )
    parser.add_argument(
        "--min-interval",
        type=non_negative_number,
        default=1.0,
        metavar="SECONDS",
        help="shortest allowed gap between polls of a task (default 1)",
    )
    parser.add_argument(
        "--examples",
        type=count,
        default=10,
        help="generated body variations to try (default 10; 0 turns the search off)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for task ids and names")
    parser.add_argument("--config", metavar="FILE", help="mock settings merged over the defaults")
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--json", metavar="FILE", help="also write a JSON report")
    parser.add_argument(
        "--html", metavar="FILE", help="also write a self-contained HTML report (for CI artifacts)"
    )
    parser.add_argument(
        "--details",
        type=count,
        default=3,
        help="situations shown with evidence per broken rule (default 3; 0 = all)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line per situation")
    parser.set_defaults(func=conform)


def conform(args: argparse.Namespace) -> int:
    """Run the matrix (or list it) and print the report; 0 kept, 1 broken, 2 usage."""
    from sora_mock.conformance import CommandHarness, CommandOptions
    from sora_mock.engine import MockConfig
    from sora_mock.errors import UsageError

    contract = spec_contract(args)
    patterns = args.situations.split(",") if args.situations else None
    if args.list:
        from sora_mock.conformance import catalogue, select

        for situation in select(catalogue(contract, args.model), patterns):
            print(f"{situation.name:<36} {situation.description}")
        return 0
    if not args.run:
        raise UsageError("--run COMMAND is required (or --list)")
    refuse_unwritable(args.junit, args.json, args.html)
    options = CommandOptions(
        speed=args.speed,
        time_limit=args.time_limit,
        jobs=args.jobs,
        min_interval=args.min_interval,
        examples=args.examples,
        seed=args.seed,
    )
    harness = CommandHarness(
        args.run,
        options,
        contract=contract,
        model=args.model,
        config=MockConfig.load(args.config, contract=contract),
        progress=None if args.quiet else _progress,
    )
    chosen = harness.situations(patterns)
    if not args.quiet:
        print(
            f"sora-mock conform: {len(chosen)} situations, {args.jobs} at a time, "
            f"clock {args.speed:g}x, model {harness.subject.model.name}",
            file=sys.stderr,
            flush=True,
        )
    report = harness.check(patterns)
    for path, text in ((args.junit, report.to_junit), (args.json, report.to_json)):
        if path:
            Path(path).write_text(text(), encoding="utf-8")
    if args.html:
        from sora_mock.conformance import html_page

        spec = ", ".join(contract.sources)
        Path(args.html).write_text(html_page(report, spec), encoding="utf-8")
    print(report.to_text(details=args.details), end="")
    if report.problems:  # printed by the command line's main, in one line, exit 2
        raise UsageError(report.problems[0])
    return 0 if report.passed else 1


def _progress(result: Any) -> None:
    mark = "ok  " if result.passed else "FAIL"
    broken = ", ".join(v.rule for v in result.failures)
    line = f"  {mark} {result.situation.name} ({result.run.elapsed:.1f} s)"
    print(f"{line}: {broken}" if broken else line, file=sys.stderr, flush=True)


__all__ = ["conform", "register"]
