"""``sora-mock scenarios``: check a scenario file, list the scenarios available, or print an
example file to start from."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sora_mock.cli.options import add_spec_option, spec_contract


def register(subparsers: Any) -> None:
    """Add ``scenarios validate``, ``scenarios list`` and ``scenarios example`` to the
    command line."""
    parser = subparsers.add_parser(
        "scenarios",
        help="validate, list or start a file of scenarios",
        description="Work with scenarios.",
        examples=(
            "sora-mock scenarios list",
            "sora-mock scenarios example > my-scenarios.yaml",
            "sora-mock scenarios validate my-scenarios.yaml",
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    validate = actions.add_parser(
        "validate",
        help="check a scenario (or settings) file without starting anything",
        description="Check FILE against the schema and the scenario rules; exit 1 if broken.",
        examples=(
            "sora-mock scenarios example > my-scenarios.yaml",
            "sora-mock scenarios validate my-scenarios.yaml",
        ),
    )
    validate.add_argument("file", metavar="FILE")
    add_spec_option(validate)
    validate.set_defaults(func=validate_file)
    listing = actions.add_parser(
        "list",
        help="print every scenario available (built-in, and from --config)",
        description="Print every scenario a request can choose with Prefer: scenario=NAME.",
        examples=(
            "sora-mock scenarios list",
            "sora-mock scenarios list --config my-scenarios.yaml",
            "sora-mock scenarios list | grep poll-",
        ),
    )
    listing.add_argument("--config", metavar="FILE", help="also list this file's scenarios")
    add_spec_option(listing)
    listing.set_defaults(func=list_scenarios)
    example = actions.add_parser(
        "example",
        help="print an example scenario file to start from",
        description="Print a scenario file (a failed task, a 429 with Retry-After, a 402) "
        "that passes 'scenarios validate' and serves with 'serve --config'.",
        examples=(
            "sora-mock scenarios example > my-scenarios.yaml",
            "sora-mock serve --config my-scenarios.yaml",
        ),
    )
    example.set_defaults(func=print_example)


def validate_file(args: argparse.Namespace) -> int:
    """Exit 0 and say what the file holds, or print its first mistake and exit 1 (failure
    codes are checked against the spec's models)."""
    from sora_mock.engine import MockConfig
    from sora_mock.errors import ConfigError

    contract = spec_contract(args)
    try:
        config = MockConfig.load(args.file, contract=contract)
    except ConfigError as exc:
        print(f"{args.program}: error: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(s.name for s in config.scenarios) or "none"
    print(f"{args.file}: valid ({len(config.scenarios)} scenarios: {names})")
    return 0


def list_scenarios(args: argparse.Namespace) -> int:
    """Print one line per scenario: name, where it comes from, what it does."""
    from sora_mock.engine import MockConfig, ScenarioBook

    contract = spec_contract(args)
    config = MockConfig.load(args.config, contract=contract)
    book = ScenarioBook.standard(contract, config.scenarios)
    width = max(len(s.name) for s in book)
    for scenario in book:
        origin = "builtin" if scenario.source == "builtin" else "file"
        print(f"{scenario.name:<{width}}  {origin:<7}  {scenario.description}")
    return 0


def example_text() -> str:
    """The example scenario file shipped in the package."""
    from sora_mock.contract import example_scenarios_path

    return example_scenarios_path().read_text(encoding="utf-8")


def print_example(args: argparse.Namespace) -> int:
    """Print the example scenario file."""
    sys.stdout.write(example_text())
    return 0
