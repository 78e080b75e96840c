"""The ``sora-mock`` command. Each subcommand lives in its own module with ``register``.

Errors are one line on stderr and a non-zero exit: 2 for usage, configuration and
start-up problems.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

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
EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a process ended by SIGPIPE
EXIT_INTERRUPTED = 128 + 2  # as a shell reports a process ended by SIGINT (Ctrl+C)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line naming the (sub)command, not a usage
    block; a mistyped option gets the closest known one. ``examples`` are command lines shown
    at the end of ``--help`` (and checked by the tests)."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse, refusing what this parser does not know: a subcommand's own parser names
        itself in the error, instead of leaving the extras to the top parser."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        if getattr(parsed, "program", None) is None:  # the innermost subcommand's name wins
            parsed.program = self.prog
        return parsed, extras

    def format_help(self) -> str:
        """The help text, then the examples, printed as written."""
        text = super().format_help()
        if not self.examples:
            return text
        lines = "\n".join(f"  {example}" for example in self.examples)
        return f"{text}\nexamples:\n{lines}\n"

    def _suggestion(self, extras: Sequence[str]) -> str:
        """``; did you mean --port?`` for the first unknown option close to a known one."""
        known = [name for name in self._option_string_actions if name.startswith("--")]
        for extra in extras:
            if extra.startswith("--"):
                close = difflib.get_close_matches(extra.partition("=")[0], known, n=1)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""


def build_parser() -> argparse.ArgumentParser:
    """The full ``sora-mock`` parser with every registered subcommand."""
    parser = OneLineParser(
        prog="sora-mock",
        description="A stateful mock and contract checker for Evolink's video task API, "
        "driven by its OpenAPI documents.",
        examples=(
            "sora-mock serve --port 9000",
            "sora-mock scenarios list",
            "sora-mock check --base-url http://127.0.0.1:8000",
        ),
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
        print(f"{args.program}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _one_line(error: SoraMockError) -> str:
    """A file's error as one line, ``file:line:column: message`` (a validator's message may
    add a detailed dump below its first line); any other error as it is."""
    if not isinstance(error, SourceError):
        return str(error)
    lines = error.describe().strip().splitlines()
    return lines[0] if lines else type(error).__name__


def run() -> NoReturn:
    """Console-script entry point. Output into a pipe its reader closed (``| head``) ends
    quietly with 141, as a shell reports a process that SIGPIPE ended (the recipe of the
    ``signal`` module's documentation). A Ctrl+C that arrives while the command is already
    ending (a second one during a server's shutdown, say) ends it with 130, quietly."""
    try:
        try:
            code: int | str | None = main()
        except SystemExit as exc:  # --help, --version and usage errors
            code = exc.code
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdout.flush()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    sys.exit(code)
