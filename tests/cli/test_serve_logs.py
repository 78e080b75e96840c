"""``sora-mock serve`` says what it loaded, and logs requests as text or JSON lines."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx

from sora_mock.cli.scenarios import example_text
from sora_mock.contract import builtin_scenarios_path, defaults_path, spec_paths
from tests.helpers import COMMAND, CREATE_PATH, VALID_BODY, auth, serve_command, stop_serve

TOKEN = "sk-secret-token-for-the-log-0123"


def _example_config(tmp_path: Path) -> Path:
    path = tmp_path / "my-scenarios.yaml"
    path.write_text(example_text(), encoding="utf-8")
    return path


def test_the_start_up_lines_name_the_spec_settings_and_scenario_files(tmp_path: Path) -> None:
    config = _example_config(tmp_path)
    with serve_command("--config", str(config)) as (process, url):
        assert process.stdout is not None
        lines = [process.stdout.readline().rstrip("\n") for _ in range(3)]
        httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth(TOKEN))
        request_line = process.stdout.readline()
    spec, settings, scenarios = lines
    assert spec == f"sora-mock: spec: {', '.join(str(p) for p in spec_paths())}"
    assert settings == f"sora-mock: settings: {defaults_path()}, then {config}"
    assert scenarios.startswith("sora-mock: scenarios: ")
    assert str(builtin_scenarios_path()) in scenarios
    assert scenarios.endswith(f", 3 from {config} (failed-task, busy, broke)")
    assert re.match(
        r"\d{4}-\d\d-\d\dT[\d:.]+Z INFO POST /v1/videos/generations -> 200 ", request_line
    )
    assert re.search(r", \d+\.\d\d ms\)$", request_line), request_line
    assert TOKEN not in request_line


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        start = json.loads(process.stdout.readline())
        url = start["url"]
        loaded = [json.loads(process.stdout.readline()) for _ in range(3)]
        httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth(TOKEN))
        request = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert start["message"].startswith("serving 2 models")
    assert [sorted(set(line) - {"time", "level", "logger", "message"}) for line in loaded] == [
        ["spec"],
        ["config"],
        ["scenarios"],
    ]
    assert request["status"] == 200
    assert request["method"] == "POST"
    assert request["path"] == CREATE_PATH
    assert request["latency_ms"] >= 0
    assert TOKEN not in json.dumps(request)
    for line in out.splitlines():
        json.loads(line)  # whatever came after is JSON too
    assert "Traceback" not in err


def test_log_level_warning_leaves_out_request_lines() -> None:
    with serve_command("--log-level", "warning") as (process, url):
        httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth(TOKEN))
        out, _ = stop_serve(process)
    assert "POST /v1/videos/generations" not in out
    assert "sora-mock: scenarios:" in out  # start-up lines show at any level
