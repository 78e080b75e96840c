"""``sora-mock scenarios``: check a scenario file, or list the scenarios available."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sora_mock.cli.options import add_spec_option, spec_contract


def register(subparsers: Any) -> None:
    """Add ``scenarios validate`` and ``scenarios list`` to the command line."""
    parser = subparsers.add_parser(
        "scenarios", help="validate or list scenarios", description="Work with scenarios."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    validate = actions.add_parser(
        "validate",
        help="check a scenario (or settings) file without starting anything",
        description="Check FILE against the schema and the scenario rules; exit 1 if broken.",
    )
    validate.add_argument("file", metavar="FILE")
    add_spec_option(validate)
    validate.set_defaults(func=validate_file)
    listing = actions.add_parser(
        "list",
        help="print every scenario available (built-in, and from --config)",
        description="Print every scenario a request can choose with Prefer: scenario=NAME.",
    )
    listing.add_argument("--config", metavar="FILE", help="also list this file's scenarios")
    add_spec_option(listing)
    listing.set_defaults(func=list_scenarios)


def validate_file(args: argparse.Namespace) -> int:
    """Exit 0 and say what the file holds, or print its first mistake and exit 1 (failure
    codes are checked against the spec's models)."""
    from sora_mock.engine import MockConfig
    from sora_mock.errors import ConfigError

    contract = spec_contract(args)
    try:
        config = MockConfig.load(args.file, contract=contract)
    except ConfigError as exc:
        print(f"sora-mock: error: {exc}", file=sys.stderr)
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
