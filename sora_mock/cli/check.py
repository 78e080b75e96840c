"""``sora-mock check``: check any server of the task API against the contract.

The contract is the bundled one, or the documents ``--spec`` names (``SORA_MOCK_SPEC``
too); its models, examples and task body decide what is sent and how answers are judged.
Exit status: 0 when every rule holds (warnings allowed), 1 when any rule fails, 2 for a
usage error, a broken spec (one line: file:line:column) or a server that cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# The options module alone: the checker package loads httpx, which other subcommands skip.
from sora_mock.checker.options import add_token_options
from sora_mock.cli.options import (
    add_spec_option,
    count,
    non_negative_number,
    positive_number,
    refuse_unwritable,
    spec_contract,
)

if TYPE_CHECKING:
    from sora_mock.checker import CheckResult

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: Any) -> None:
    """Add ``check`` to the command line."""
    parser = subparsers.add_parser(
        "check",
        help="check a server against the contract",
        description=(
            "Check any server of the task API the spec describes (the vendor's API, a proxy, "
            "a re-implementation, or sora-mock itself) against the contract: status codes, "
            "schemas, error envelopes, authentication, token isolation and the task "
            "lifecycle of every model. Exit 0 when every rule holds, 1 when one fails, 2 for "
            "usage errors, a broken spec or an unreachable server."
        ),
        examples=(
            "sora-mock check --base-url http://127.0.0.1:8000",
            "sora-mock check --base-url http://127.0.0.1:8000 --max-tasks 0 --seed 7",
            'sora-mock check --base-url https://api.evolink.ai --token "$EVOLINK_API_KEY"',
        ),
    )
    add_spec_option(parser)
    parser.add_argument(
        "--base-url", required=True, help="the server's root, e.g. https://api.evolink.ai"
    )
    add_token_options(parser.add_argument)
    parser.add_argument(
        "--max-examples",
        type=count,
        default=25,
        help="generated examples per group of invalid requests, after one of each kind (25)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed for generated examples (default: random, printed)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_number,
        default=600.0,
        help="seconds a created task may take to finish (default 600)",
    )
    parser.add_argument(
        "--max-tasks",
        type=count,
        default=3,
        help="tasks to create at most; each may cost credits (default 3; 0 skips lifecycle checks)",
    )
    parser.add_argument(
        "--poll-interval",
        type=non_negative_number,
        default=2.0,
        help="seconds between polls of a task (default 2, as the vendor advises)",
    )
    parser.add_argument(
        "--request-timeout",
        type=positive_number,
        default=30.0,
        help="seconds per request (default 30)",
    )
    parser.add_argument(
        "--ignore-rule",
        action="append",
        default=[],
        metavar="RULE",
        help="do not report RULE (repeatable); see --list-rules",
    )
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report to FILE")
    parser.add_argument("--json", metavar="FILE", help="write a JSON report to FILE")
    parser.add_argument(
        "--html", metavar="FILE", help="write a self-contained HTML report to FILE (for CI)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--list-rules", action=_ListRules, nargs=0, help="list the rules and exit")
    parser.set_defaults(func=check)


def check(args: argparse.Namespace) -> int:
    """Run the checker and report; return the exit status."""
    from sora_mock.checker import (
        RULES,
        CheckOptions,
        dumps,
        html_page,
        json_report,
        junit_xml,
        render_failures,
        render_summary,
        run_check,
    )
    from sora_mock.errors import UsageError

    if not args.token:
        raise UsageError("--token (or $SORA_TOKEN) is required")
    if not args.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://, got {args.base_url!r}")
    unknown = sorted(set(args.ignore_rule) - set(RULES))
    if unknown:
        raise UsageError(f"unknown rule {unknown[0]!r}; rules: {', '.join(RULES)}")
    refuse_unwritable(args.junit, args.json, args.html)
    options = CheckOptions(
        token=args.token,
        other_token=args.other_token or None,
        max_examples=args.max_examples,
        seed=args.seed,
        timeout=args.timeout,
        max_tasks=args.max_tasks,
        poll_interval=args.poll_interval,
        request_timeout=args.request_timeout,
        ignore=frozenset(args.ignore_rule),
    )
    contract = spec_contract(args)  # a broken file is one line from the command line's main
    progress = None if args.quiet else Progress(sys.stderr)
    try:  # an unreachable server is one line from the command line's main
        result = run_check(args.base_url, options, contract, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    failures = render_failures(result)
    if failures:
        print(failures, end="\n\n")
    print(render_summary(result))
    if args.junit:
        Path(args.junit).write_text(junit_xml(result), encoding="utf-8")
    if args.json:
        Path(args.json).write_text(dumps(json_report(result)), encoding="utf-8")
    if args.html:
        spec = ", ".join(contract.sources)
        Path(args.html).write_text(html_page(result, spec), encoding="utf-8")
    return EXIT_OK if result.ok else EXIT_FAILED


class Progress:
    """One status line, redrawn in place on a terminal; a line per phase elsewhere (CI logs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._phase = ""
        self._width = 0

    def __call__(self, phase: str, result: CheckResult) -> None:
        failed = len(result.ledger.failures)
        line = (
            f"[{result.duration:6.1f}s] {phase}: {result.exchanges} requests, "
            f"{failed} failure{'s' if failed != 1 else ''}"
        )
        if self.live:
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self.stream.flush()
        elif phase != self._phase:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._phase = phase

    def close(self) -> None:
        """End the status line."""
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


class _ListRules(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from sora_mock.checker import RULES

        width = max(map(len, RULES))
        for rule, description in RULES.items():
            print(f"{rule:<{width}}  {description}")
        parser.exit(EXIT_OK)


__all__ = ["Progress", "check", "register"]
