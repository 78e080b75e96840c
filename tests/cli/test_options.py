"""The options the subcommands share."""

from __future__ import annotations

import argparse

import pytest

from sora_mock.cli.options import add_token_options


def test_token_options_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SORA_TOKEN", "sk-from-env")
    monkeypatch.delenv("SORA_OTHER_TOKEN", raising=False)
    parser = argparse.ArgumentParser()
    add_token_options(parser)
    args = parser.parse_args([])
    assert (args.token, args.other_token) == ("sk-from-env", None)
    args = parser.parse_args(["--token", "sk-1", "--other-token", "sk-2"])
    assert (args.token, args.other_token) == ("sk-1", "sk-2")
