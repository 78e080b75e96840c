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

from sora_mock.errors import SoraMockError

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
        description="A stateful mock and contract checker for Evolink's sora-character API.",
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
        print(f"sora-mock: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
