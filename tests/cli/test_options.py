"""The token options, defined once for `sora-mock check` and the contract suite."""

from __future__ import annotations

import argparse

import pytest

from sora_mock.checker import add_token_options


def test_token_options_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SORA_TOKEN", "sk-from-env")
    monkeypatch.delenv("SORA_OTHER_TOKEN", raising=False)
    parser = argparse.ArgumentParser()
    add_token_options(parser.add_argument)
    args = parser.parse_args([])
    assert (args.token, args.other_token) == ("sk-from-env", None)
    args = parser.parse_args(["--token", "sk-1", "--other-token", "sk-2"])
    assert (args.token, args.other_token) == ("sk-1", "sk-2")


def test_the_contract_suite_takes_the_same_token_options(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from sora_mock.checker import add_token_options\n"
        "def pytest_addoption(parser):\n"
        "    add_token_options(parser.getgroup('x').addoption, prefix='--sora-contract-')\n"
        "def test_token(request):\n"
        "    assert request.config.getoption('sora_contract_token') == 'sk-1'\n"
    )
    pytester.makepyfile(test_it="from conftest import test_token\n")
    result = pytester.runpytest("--sora-contract-token", "sk-1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
