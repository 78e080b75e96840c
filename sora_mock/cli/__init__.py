"""The ``sora-mock`` command. Each subcommand lives in its own module with ``register``.

Errors are one line on stderr and a non-zero exit: 2 for usage, configuration and
start-up problems.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from sora_mock.errors import SoraMockError, SourceError

#: Modules that add a subcommand: each has ``register(subparsers) -> None`` and sets
#: ``func`` (taking the parsed namespace, returning an exit code) on its parser.
COMMAND_MODULES = (
    "sora_mock.cli.serve",
    "sora_mock.cli.scenarios",
    "sora_mock.cli.conform",
    "sora_mock.cli.check",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full ``sora-mock`` parser with every registered subcommand."""
    parser = OneLineParser(
        prog="sora-mock",
        description="A stateful mock and contract checker for Evolink's video task API, "
        "driven by its OpenAPI documents.",
    )
    from sora_mock import __version__

    parser.add_argument("--version", action="version", version=f"sora-mock {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except SoraMockError as exc:
        print(f"sora-mock: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


def _one_line(error: SoraMockError) -> str:
    """A file's error as one line, ``file:line:column: message`` (a validator's message may
    add a detailed dump below its first line); any other error as it is."""
    if not isinstance(error, SourceError):
        return str(error)
    lines = error.describe().strip().splitlines()
    return lines[0] if lines else type(error).__name__


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
