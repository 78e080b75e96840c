"""Every ``--help`` ends with examples, and every example is a command the parser takes."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sora_mock.cli import OneLineParser, build_parser, main
from sora_mock.cli.scenarios import example_text

ROOT = Path(__file__).resolve().parents[2]


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _parsers(child)


def _examples() -> list[Any]:
    found: list[Any] = []
    for parser in _parsers(build_parser()):
        assert isinstance(parser, OneLineParser)
        found.extend(pytest.param(example, id=example) for example in parser.examples)
    return found


def _command(example: str) -> list[str]:
    """The arguments of an example's ``sora-mock`` command, before any pipe or redirect."""
    words = shlex.split(example, posix=True)
    for index, word in enumerate(words):
        if word in {"|", ">"}:
            words = words[:index]
            break
    assert words[0] == "sora-mock", example
    return words[1:]


def test_every_command_and_subcommand_has_two_or_three_examples() -> None:
    for parser in _parsers(build_parser()):
        assert isinstance(parser, OneLineParser)
        assert 2 <= len(parser.examples) <= 3, parser.prog
        help_text = parser.format_help()
        assert help_text.rstrip().endswith(parser.examples[-1]), parser.prog
        assert "\nexamples:\n" in help_text


@pytest.mark.parametrize("example", _examples())
def test_every_example_parses(example: str) -> None:
    args = build_parser().parse_args(_command(example))
    assert callable(args.func), example


def test_the_scenario_examples_run_in_a_shell(tmp_path: Path) -> None:
    """The ``scenarios`` examples, run in order as a user would: the file one writes is the
    file the next validates and lists."""
    scenario_parsers = [p for p in _parsers(build_parser()) if p.prog.startswith("sora-mock scen")]
    assert isinstance(scenario_parsers[0], OneLineParser)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for parser in scenario_parsers:
        assert isinstance(parser, OneLineParser)
        for example in parser.examples:
            if example.startswith("sora-mock serve"):
                continue  # serving runs until stopped: parsed above
            result = subprocess.run(
                example, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"{example}: {result.stderr}"
            assert result.stderr == "", example
    assert (tmp_path / "my-scenarios.yaml").read_text(encoding="utf-8") == example_text()


def test_conform_list_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--list"]) == 0
    assert "never-finishes" in capsys.readouterr().out


def test_the_example_scenario_file_in_the_repository_is_the_shipped_one() -> None:
    shipped = example_text()
    assert (ROOT / "examples/scenarios/unhappy-paths.yaml").read_text(encoding="utf-8") == shipped


def test_the_shipped_example_is_valid_and_serves(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(example_text(), encoding="utf-8")
    from sora_mock.engine import MockConfig

    config = MockConfig.load(path)
    assert [s.name for s in config.scenarios] == ["failed-task", "busy", "broke"]
