"""``--html FILE`` of ``sora-mock conform``: one self-contained page; of ``check`` and
``conform``: an unwritable path refused in one line with exit 2. (The page ``check`` writes
of a broken server is checked with its other reports in ``test_check.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sora_mock.cli import main
from tests.conformance_clients import EXAMPLES
from tests.html.parsing import parse

NAIVE_CLIENT = f"{sys.executable} {EXAMPLES / 'naive_client.py'}"
#: A situation for each of the five rules the naive client breaks.
NAIVE_SITUATIONS = {
    "success": "poll-interval",
    "poll-rate_limit_exceeded": "retry-after",
    "never-finishes": "give-up-bound",
    "poll-invalid_task_id": "no-futile-retry",
    "fail-content_policy_violation": "outcome",
}


@pytest.mark.slow
def test_conform_writes_an_html_report_of_the_naive_client(tmp_path: Path) -> None:
    page = tmp_path / "conform.html"
    out = subprocess.run(
        [
            *(sys.executable, "-m", "sora_mock", "conform"),
            *("--run", NAIVE_CLIENT, "-k", ",".join(NAIVE_SITUATIONS)),
            *("--time-limit", "15", "--examples", "0", "--quiet", "--html", str(page)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SORA_MAX_WAIT": "6"},
    )
    # The time limit is long enough for the situations that end to end on a loaded machine;
    # the ones the client never gives up on run to it.
    assert out.returncode == 1, out.stdout + out.stderr
    parsed = parse(page.read_text(encoding="utf-8"))
    broken = {
        (c.attrs["data-row"], c.attrs["data-column"])
        for c in parsed.cells
        if c.attrs["data-state"] == "broken"
    }
    assert set(NAIVE_SITUATIONS.items()) <= broken, out.stdout
    ids = {t.attrs.get("id") for t in parsed.tags}
    for situation, rule in NAIVE_SITUATIONS.items():
        assert f"rule-{rule}" in ids
        assert f"rule-{rule}-{situation}" in ids
    assert "5 rule(s) broken" in parsed.text
    assert len(parsed.named("svg")) == len(broken)  # a timeline per broken cell
    assert parsed.external_references() == []


@pytest.mark.parametrize("command", ["check", "conform"])
@pytest.mark.parametrize(
    ("where", "message"),
    [("no/such/dir/r.html", "its directory does not exist"), (".", "it is a directory")],
)
def test_an_unwritable_html_path_is_one_line_and_exit_2(
    command: str,
    where: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SORA_TOKEN", raising=False)
    path = str(tmp_path / where)
    args = (
        ["check", "--base-url", "http://127.0.0.1:1", "--token", "t"]
        if command == "check"
        else ["conform", "--run", "true"]
    )
    code = main([*args, "--html", path])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert f"cannot write {path}: {message}" in err[0]
