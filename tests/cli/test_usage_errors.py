"""A usage mistake is one line that names the subcommand and, for a mistyped option or
settings key, the closest known one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_mock.cli import main


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["serve", "--prot", "9000"],
            "sora-mock serve: error: unrecognized arguments: --prot 9000; did you mean --port? "
            "(see sora-mock serve --help)",
        ),
        (
            ["serve", "--log-levle=debug"],
            "sora-mock serve: error: unrecognized arguments: --log-levle=debug; "
            "did you mean --log-level? (see sora-mock serve --help)",
        ),
        (
            ["scenarios", "list", "--cnfig", "x.yaml"],
            "sora-mock scenarios list: error: unrecognized arguments: --cnfig x.yaml; "
            "did you mean --config? (see sora-mock scenarios list --help)",
        ),
        (
            ["check", "--base-url", "http://127.0.0.1:9", "--zzzzzz"],
            "sora-mock check: error: unrecognized arguments: --zzzzzz (see sora-mock check --help)",
        ),
        (
            ["--nope", "serve"],
            "sora-mock: error: unrecognized arguments: --nope (see sora-mock --help)",
        ),
    ],
)
def test_unknown_options_are_named_by_the_subcommand(
    args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"{line}\n"


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        pytest.param(
            "",
            ": the file is empty; it must hold a mapping of settings, such as 'scenarios: [...]'",
            id="empty",
        ),
        pytest.param(
            "clock:\n  sped: 5\n",
            ":2:9: clock/sped: unknown key (did you mean 'speed'?)",
            id="mistyped-key",
        ),
    ],
)
def test_a_broken_config_file_is_one_line_naming_it_and_exit_2(
    text: str, rest: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "my.yaml"
    config.write_text(text, encoding="utf-8")
    assert main(["serve", "--port", "0", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == f"sora-mock serve: error: {config}{rest}\n"
    assert err.count("\n") == 1
