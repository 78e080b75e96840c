"""``sora-mock check`` as a user runs it: self-check, a broken server, usage errors."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from sora_mock.checker import RULES
from sora_mock.cli import main
from sora_mock.contract import Contract, spec_paths
from sora_mock.engine import Engine, MockConfig, RealClock
from sora_mock.server import BackgroundServer, bind
from tests.helpers import COMMAND, serve_command
from tests.html.parsing import parse
from tests.made_up import ID_PREFIX, MODEL, write_made_up_api
from tests.mutants import TextPlain

TOKEN, OTHER = "sk-cli-check-owner-1", "sk-cli-check-other-2"


@pytest.fixture
def served() -> Iterator[str]:
    with serve_command("--seed", "1", "--speed", "2000", "--quiet") as (_, url):
        yield url


def test_self_check_passes_with_reports(served: str, tmp_path: Path) -> None:
    junit, report = tmp_path / "report.xml", tmp_path / "report.json"
    result = subprocess.run(
        [
            *COMMAND,
            "check",
            "--base-url",
            served,
            "--token",
            TOKEN,
            "--other-token",
            OTHER,
            "--max-examples",
            "5",
            "--max-tasks",
            "2",
            "--poll-interval",
            "0.05",
            "--timeout",
            "30",
            "--seed",
            "3",
            "--junit",
            str(junit),
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED: 0 of" in result.stdout
    assert "polling tasks:" in result.stderr  # the progress lines (not a terminal here)
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0"
    assert {case.get("name") for case in suite.iter("testcase")} == set(RULES)
    data = json.loads(report.read_text())
    assert data["ok"] is True
    assert data["seed"] == 3
    assert all(task["final"] == "completed" for task in data["tasks"])
    assert TOKEN not in report.read_text() + junit.read_text() + result.stdout


def test_a_broken_server_fails_with_curl_response_and_rule_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SORA_TOKEN", raising=False)
    junit, page = tmp_path / "report.xml", tmp_path / "check.html"
    with BackgroundServer(TextPlain()) as server:
        code = main(
            [
                "check",
                "--base-url",
                server.base_url,
                "--token",
                TOKEN,
                "--max-examples",
                "2",
                "--max-tasks",
                "1",
                "--poll-interval",
                "0",
                "--junit",
                str(junit),
                "--html",
                str(page),
                "--quiet",
            ]
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL content_type: expected application/json, got 'text/plain; charset=utf-8'" in out
    assert "curl -sS -i -X GET" in out
    assert '-H "Authorization: Bearer $SORA_TOKEN"' in out
    assert TOKEN not in out
    assert "HTTP 404" in out  # the response is shown
    assert "FAILED: 1 of" in out
    failed = [
        case.get("name") for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    ]  # fmt: skip
    assert failed == ["content_type"]
    # The HTML report: one self-contained page.
    html = page.read_text(encoding="utf-8")
    parsed = parse(html)
    assert f"target{server.base_url}" in parsed.text
    assert f"spec{', '.join(map(str, spec_paths()))}" in parsed.text  # the files, not "bundled"
    broken = {c.attrs["data-row"] for c in parsed.cells if c.attrs["data-state"] == "broken"}
    assert broken == {"content_type"}
    assert "content_type: broken" in parsed.text
    assert "curl -sS -i -X GET" in parsed.text
    assert len(parsed.named("svg")) == 1
    assert TOKEN not in html
    assert parsed.external_references() == []


def test_unreachable_server_is_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    code = main(["check", "--base-url", f"http://127.0.0.1:{port}", "--token", TOKEN, "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith(f"sora-mock check: error: cannot reach http://127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--base-url", "http://127.0.0.1:1"], "--token (or $SORA_TOKEN) is required"),
        (["--base-url", "ftp://x", "--token", "t"], "must start with http:// or https://"),
        (
            ["--base-url", "http://x", "--token", "t", "--ignore-rule", "nope"],
            "unknown rule 'nope'",
        ),
        (
            ["--base-url", "http://x", "--token", "t", "--max-examples", "-1"],
            "must not be negative",
        ),
        (["--base-url", "http://x", "--token", "t", "--timeout", "0"], "must be positive"),
        (
            ["--base-url", "http://x", "--token", "t", "--junit", "/no/such/dir/r.xml"],
            "cannot write",
        ),
        (["--token", "t"], "the following arguments are required: --base-url"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SORA_TOKEN", raising=False)
    try:
        code = main(["check", *args])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert fragment in err[0]


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--list-rules"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(rule in out for rule in RULES)


def test_check_spec_judges_a_server_of_a_made_up_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SORA_MOCK_SPEC", raising=False)
    spec = write_made_up_api(tmp_path)
    engine = Engine(Contract.load([spec]), MockConfig.defaults(), RealClock(speed=2000), seed=2)
    report = tmp_path / "report.json"
    with BackgroundServer(engine) as server:
        args = ["check", "--base-url", server.base_url, "--token", TOKEN, "--quiet"]
        args += ["--max-examples", "2", "--max-tasks", "1", "--poll-interval", "0.05"]
        # Judged by the bundled contract, the server answers nothing where it is expected...
        assert main(args) == 1
        assert "FAIL status_code_conformance" in capsys.readouterr().out
        # ...and by its own spec, it keeps every rule.
        code = main([*args, "--spec", str(spec), "--json", str(report), "--timeout", "60"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASSED: 0 of" in out
    (task,) = json.loads(report.read_text())["tasks"]
    assert (task["statuses"][0], task["final"]) == ("pending", "completed")
    assert task["id"].startswith(ID_PREFIX)
    stored = engine.store.get(task["id"])
    assert stored is not None
    assert stored.model == MODEL


def test_a_broken_spec_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: x\n", encoding="utf-8")
    code = main(
        ["check", "--base-url", "http://127.0.0.1:1", "--token", TOKEN, "--spec", str(broken)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"sora-mock check: error: {broken}:3:"), err
