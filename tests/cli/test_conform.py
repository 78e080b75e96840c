"""``sora-mock conform``: clients in any language, through a real server on a fast clock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conformance_clients import EXAMPLES
from tests.made_up import (
    CREATE_PATH,
    ID_PREFIX,
    MODEL,
    READ_PATH,
    RESULT_FIELDS,
    write_made_up_api,
)

CONFORM = [sys.executable, "-m", "sora_mock", "conform"]
SHELL_CLIENT = f"sh {EXAMPLES / 'curl_client.sh'}"
PYTHON_CLIENT = f"{sys.executable} {EXAMPLES / 'polite_client.py'}"
NAIVE_CLIENT = f"{sys.executable} {EXAMPLES / 'naive_client.py'}"
needs_curl = pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="the shell client needs curl and jq"
)


def conform(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SORA_MAX_WAIT": "6"}
    return subprocess.run(
        [*CONFORM, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@needs_curl
@pytest.mark.slow
def test_the_shell_client_conforms_through_a_real_server(tmp_path: Path) -> None:
    situations = (
        "success,never-finishes,create-insufficient_quota,fail-content_policy_violation,"
        "poll-rate-limited-once"
    )
    report, junit = tmp_path / "report.json", tmp_path / "report.xml"
    out = conform(
        "--run", SHELL_CLIENT, "-k", situations, "--json", str(report), "--junit", str(junit)
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 situations × 8 rules: all kept" in out.stdout
    assert "  ok   success" in out.stderr  # progress, one line per situation
    data = json.loads(report.read_text())
    results = {s["name"]: s for s in data["situations"]}
    assert results["success"]["outcome"]["character_name"].startswith("chr_")
    assert results["success"]["outcome"]["detail"].startswith("exit code 0, reported {")
    assert results["fail-content_policy_violation"]["outcome"]["error_code"] == (
        "content_policy_violation"
    )
    assert results["create-insufficient_quota"]["outcome"]["http_status"] == 402
    assert results["never-finishes"]["outcome"]["status"] == "timeout"
    retry = next(
        v for v in results["poll-rate-limited-once"]["verdicts"] if v["rule"] == "retry-after"
    )
    assert retry["status"] == "pass"
    assert ElementTree.parse(junit).getroot().get("failures") == "0"


@pytest.mark.slow
def test_a_python_client_runs_as_a_command_too() -> None:
    out = conform("--run", PYTHON_CLIENT, "-k", "success,create-insufficient_quota", "--quiet")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""


@pytest.mark.slow
def test_the_naive_client_breaks_rules_on_the_real_clock_too() -> None:
    out = conform("--run", NAIVE_CLIENT, "-k", "poll-rate-limited-once", "--quiet")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "2 rule(s) broken in 1 situation(s)" in out.stdout
    assert "\npoll-interval: " in out.stdout
    assert "\nretry-after: " in out.stdout
    assert "after a 429 with Retry-After: 2" in out.stdout


@pytest.mark.slow
def test_a_client_past_the_time_limit_is_stopped_and_reported() -> None:
    started = time.monotonic()
    out = conform("--run", "sleep 60", "-k", "success", "--time-limit", "1", "--quiet")
    assert time.monotonic() - started < 30
    assert out.returncode == 1
    assert "give-up-bound: " in out.stdout
    assert "still running after 1 s; the harness stopped the client" in out.stdout


def test_a_command_that_cannot_run_is_a_usage_error() -> None:
    out = conform("--run", "no-such-client-command-here", "-k", "success", "--quiet")
    assert out.returncode == 2
    assert out.stderr.startswith(
        "sora-mock conform: error: the command could not be run (exit code 127)"
    )
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--run COMMAND is required"),
        (["--run", "true", "-k", "nope"], "no situation matches 'nope'"),
        (["--run", "true", "--speed", "0"], "must be positive"),
        (["--run", "true", "--jobs", "0"], "must be at least 1"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = conform(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_list_shows_the_situations() -> None:
    out = conform("--list", "-k", "fail-*")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert len(lines) == 16
    assert lines[0].startswith("fail-content_policy_violation ")


def test_a_broken_spec_is_one_line_with_its_place(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: x\n  version: 1\n", encoding="utf-8")
    out = conform("--spec", str(spec), "--run", "true")
    assert out.returncode == 2
    assert out.stderr.startswith(f"sora-mock conform: error: {spec}:3:")
    assert len(out.stderr.strip().splitlines()) == 1


def test_list_follows_the_spec_and_the_model() -> None:
    out = conform("--spec", "bundled", "--model", "sora-2-preview", "--list", "-k", "success")
    assert out.returncode == 0, out.stderr
    assert "completed after 300 s" in out.stdout
    unknown = conform("--model", "sora-3", "--list")
    assert unknown.returncode == 2
    assert "the contract has no model 'sora-3'" in unknown.stderr


#: A command client for any model of any task API: it sends SORA_REQUEST_BODY to the create
#: path it is given, reads the task at the read path (its one ``{...}`` the id), and reports
#: the first string of the completed task's ``results``-like list it is told to read.
GENERIC_CLIENT = """
import json, os, re, sys, time, urllib.request

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        os.environ["SORA_BASE_URL"] + path, data=data, method=method,
        headers={"Authorization": "Bearer " + os.environ["SORA_API_KEY"],
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())

body = json.loads(os.environ["SORA_REQUEST_BODY"])
assert body["model"] == os.environ["SORA_MODEL"]
create, read, results = sys.argv[1:4]
task = call("POST", create, body)
while task["status"] not in ("completed", "failed"):
    time.sleep(1.2)
    task = call("GET", re.sub(r"{[^}]*}", task["id"], read))
print(json.dumps({"status": task["status"], "result": task[results][0]}))
sys.exit(0 if task["status"] == "completed" else 1)
"""


@pytest.mark.slow
def test_a_command_client_conforms_to_a_model_of_a_given_spec(tmp_path: Path) -> None:
    spec = write_made_up_api(tmp_path)
    client = tmp_path / "client.py"
    client.write_text(GENERIC_CLIENT, encoding="utf-8")
    results = RESULT_FIELDS[1]
    report = tmp_path / "report.json"
    command = f"{sys.executable} {client} {CREATE_PATH} {READ_PATH} {results}"
    out = conform("--spec", str(spec), "--run", command, "-k", "success", "--json", str(report))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"model {MODEL}" in out.stderr
    outcome = json.loads(report.read_text())["situations"][0]["outcome"]
    assert f"/__mock/files/{ID_PREFIX}" in outcome["result"]
    bad = conform(
        "--spec", str(spec), "--run", f"{command[: -len(results)]}missing", "-k", "success"
    )
    assert bad.returncode == 1
    assert "\noutcome: " in bad.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("documented", "command"),
    [
        pytest.param(
            'sora-mock conform --run "python examples/clients/polite_client.py"',
            f"{sys.executable} examples/clients/polite_client.py",
            id="polite",
        ),
        pytest.param(
            'sora-mock conform --run "sh examples/clients/curl_client.sh"',
            "sh examples/clients/curl_client.sh",
            id="curl",
            marks=needs_curl,
        ),
    ],
)
def test_the_example_clients_pass_the_documented_command(documented: str, command: str) -> None:
    """Every situation, with no give-up bound set: the harness offers one in SORA_MAX_WAIT."""
    root = EXAMPLES.parents[1]
    where = root / "docs" / "conformance.md" if "curl" in command else EXAMPLES / "polite_client.py"
    assert documented in where.read_text()
    env = {key: value for key, value in os.environ.items() if key != "SORA_MAX_WAIT"}
    out = subprocess.run(
        [*CONFORM, "--run", command, "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=root,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert " rules: all kept" in out.stdout
