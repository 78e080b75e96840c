"""Options and argument types shared by the subcommands: each refuses a bad value with one
clear line."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sora_mock.contract import Contract


def add_spec_option(parser: Any) -> None:
    """Add ``--spec FILE`` (repeatable) to ``parser``; read it back with :func:`spec_paths`
    or :func:`spec_contract`."""
    parser.add_argument(
        "--spec",
        metavar="FILE",
        action="append",
        help="an OpenAPI document to mock (repeatable: the documents are merged by model; "
        "'bundled' names the shipped ones). Default: $SORA_MOCK_SPEC (paths separated by "
        "the OS path separator), else the bundled documents",
    )


def spec_paths(args: argparse.Namespace) -> tuple[str, ...]:
    """The spec files ``--spec`` names, else ``SORA_MOCK_SPEC``'s, else ``("bundled",)``."""
    from sora_mock.inprocess import default_spec

    given: list[str] | None = args.spec
    return tuple(given) if given else default_spec()


def spec_contract(args: argparse.Namespace) -> Contract:
    """The contract of :func:`spec_paths` (SpecError, with file, line and column, if broken)."""
    from sora_mock.inprocess import load_contract

    return load_contract(spec_paths(args))


def whole(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from ``minimum`` to ``maximum`` (inclusive, when given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            if minimum == 0:
                raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    return parse


def number(*, positive: bool = False) -> Callable[[str], float]:
    """A finite number that is at least 0 (above 0 with ``positive``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if positive and value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
        return value

    return parse


positive_number = number(positive=True)
non_negative_number = number()
count = whole(0)


def unwritable(path: str | None) -> str | None:
    """Why a report cannot be written to ``path`` (one line), or None when it can (or no
    path was given)."""
    if not path:
        return None
    target = Path(path).resolve()
    if target.is_dir():
        return f"cannot write {path}: it is a directory"
    if not target.parent.is_dir():
        return f"cannot write {path}: its directory does not exist"
    if not os.access(target if target.exists() else target.parent, os.W_OK):
        return f"cannot write {path}: permission denied"
    return None


def refuse_unwritable(*paths: str | None) -> None:
    """Raise :class:`~sora_mock.errors.UsageError` naming the first of ``paths`` a report
    cannot be written to (the command line prints it as one line and exits 2)."""
    from sora_mock.errors import UsageError

    problem = next(filter(None, map(unwritable, paths)), None)
    if problem is not None:
        raise UsageError(problem)
