"""The ``sora-mock`` command as a user runs it."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sora_mock.cli import build_parser, main
from sora_mock.errors import PortInUseError
from sora_mock.server import bind
from sora_mock.server.protocols import HTTP_NAMES
from tests.helpers import (
    COMMAND,
    CREATE_PATH,
    VALID_BODY,
    auth,
    serve_command,
    start_serve,
    stop_serve,
)
from tests.made_up import BODY, MODEL, write_made_up_model
from tests.rawhttp import address, exchange, request


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    with serve_command("--seed", "1", "--speed", "1000") as served:
        yield served


def test_serve_on_a_free_port_then_lifecycle_in_real_time(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served
    headers = {"Authorization": "Bearer sk-cli-test-1"}
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/__mock/health").status_code == 200
        body = {"model": "sora-character", "video_url": "https://example.com/a.mp4"}
        task = client.post("/v1/videos/generations", json=body, headers=headers).json()
        assert task["status"] == "pending"
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert "Traceback" not in err


def test_request_log_lines_mask_the_token(served: tuple[subprocess.Popen[str], str]) -> None:
    process, url = served
    httpx.get(
        f"{url}/v1/tasks/task-unified-1-abcdefgh",
        headers={"Authorization": "Bearer sk-secret-token-xyz"},
    )
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert "GET /v1/tasks/task-unified-1-abcdefgh -> 404" in out
    assert "sk-secret-token-xyz" not in out


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_serve_runs_either_http_protocol_with_the_same_edge(http: str) -> None:
    with serve_command("--http", http, "--quiet") as (_, url):
        answer = exchange(url, request("FOO", "/v1/videos/generations"))
        created = httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth())
    assert answer.status == 400, answer.raw[:200]
    assert answer.json()["error"]["code"] == "invalid_request"
    assert created.status_code == 200, created.text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--port", "abc"], "not a port number"),
        (["serve", "--port", "70000"], "port must be 0-65535"),
        (["serve", "--speed", "-1"], "must be positive"),
        (["serve", "--nope"], "unrecognized arguments: --nope"),
        (["serve", "--http", "h2"], "invalid choice: 'h2'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_flags_get_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"sora-mock serve: error: port {port} on 127.0.0.1 is already in use"]


def test_serve_offers_every_http_protocol() -> None:
    [commands] = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    serve = commands.choices["serve"]
    [http] = [action for action in serve._actions if action.dest == "http"]
    assert tuple(http.choices or ()) == HTTP_NAMES


def test_httptools_without_the_fast_extra_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "httptools" else find_spec(name, *a),
    )
    assert main(["serve", "--http", "httptools", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sora-mock serve: error: --http httptools needs the fast extra: pip install 'sora-mock[fast]'"
    ]


def test_broken_config_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("clock:\n  speed: 5\nlifecycle:\n  outcome: exploded\n")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{config}:4:" in err[0]
    assert "exploded" in err[0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("tokens:\n  sk-a-token:\n    credits: lots\n", ":3:"),
        ("limits: {max_body_bytes: 0}\n", ":1:"),
        ("clock:\n  speed: 1\n  speed: 2\n", "duplicate key 'speed'"),
        ("clock: [\n", "invalid YAML"),
        ("unknown_section: 1\n", "unknown_section"),
    ],
)
def test_config_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(text)
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert fragment in err[0]


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "cannot read file" in capsys.readouterr().err


def test_scenarios_validate_ok_and_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = Path(__file__).resolve().parents[2] / "examples/scenarios/unhappy-paths.yaml"
    assert main(["scenarios", "validate", str(good)]) == 0
    assert "valid (3 scenarios: failed-task, busy, broke)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - name: a\n    poll: {response: {status: 413}}\n")
    assert main(["scenarios", "validate", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"sora-mock scenarios validate: error: {bad}:3:")


def test_scenarios_list_includes_builtin_and_file(capsys: pytest.CaptureFixture[str]) -> None:
    good = Path(__file__).resolve().parents[2] / "examples/scenarios/unhappy-paths.yaml"
    assert main(["scenarios", "list", "--config", str(good)]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert names[:3] == ["failed-task", "busy", "broke"]
    assert "fail-content_policy_violation" in names
    assert "poll-task_not_found" in names


def test_serve_a_made_up_model_from_its_spec_file(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    with serve_command("--spec", str(spec), "--quiet") as (_, url):
        made_up = httpx.post(f"{url}{CREATE_PATH}", json=BODY, headers=auth())
        bundled = httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth())
    assert made_up.status_code == 200, made_up.text
    assert made_up.json()["model"] == MODEL
    assert bundled.status_code == 400
    assert bundled.json()["error"]["param"] == "model"


def _start_up_line(*options: str) -> str:
    """The first line ``sora-mock serve --port 0 OPTIONS`` prints (the server is then stopped)."""
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", *options], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        return process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_start_up_line_names_the_models_served(tmp_path: Path) -> None:
    line = _start_up_line("--quiet")
    assert line.startswith(
        "sora-mock: serving 2 models (sora-character, sora-2-preview) on http://"
    )
    one = _start_up_line("--quiet", "--spec", str(write_made_up_model(tmp_path)))
    assert one.startswith(f"sora-mock: serving 1 model ({MODEL}) on http://")


def test_a_missing_spec_file_is_refused_before_serving() -> None:
    result = _run("serve", "--port", "0", "--spec", "bundled", "--spec", "no-such.yaml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "sora-mock serve: error: no-such.yaml: cannot read file: "
        "[Errno 2] No such file or directory: 'no-such.yaml'"
    ]


def test_serve_reads_the_spec_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_made_up_model(tmp_path)
    monkeypatch.setenv("SORA_MOCK_SPEC", os.pathsep.join(["bundled", str(spec)]))
    line = _start_up_line("--quiet")
    assert line.startswith(
        f"sora-mock: serving 3 models (sora-character, sora-2-preview, {MODEL}) on "
    )
    # --spec replaces the environment's set.
    assert _start_up_line("--quiet", "--spec", "bundled").startswith("sora-mock: serving 2 models")


@pytest.mark.slow
def test_every_worker_serves_the_same_spec(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    state = str(tmp_path / "state.db")
    with serve_command("--spec", str(spec), "--workers", "2", "--state", state, "--quiet") as (
        _,
        url,
    ):
        # A new connection per request, so both workers answer.
        made_up = [
            httpx.post(f"{url}{CREATE_PATH}", json=BODY, headers=auth()).status_code
            for _ in range(12)
        ]
        bundled = [
            httpx.post(f"{url}{CREATE_PATH}", json=VALID_BODY, headers=auth()).status_code
            for _ in range(12)
        ]
    assert made_up == [200] * 12
    assert bundled == [400] * 12


def _broken_openapi(spec: Path) -> int:
    spec.write_text(
        "openapi: 3.1.0\ninfo:\n  title: x\n  version: '1'\npaths:\n  /a:\n    get:\n      responses: 12\n"
    )
    return 8


def _broken_yaml(spec: Path) -> int:
    spec.write_text("openapi: 3.1.0\ninfo:\n  title: [x\n")
    return 4


def _broken_extension(spec: Path) -> int:
    lines = write_made_up_model(spec.parent).read_text().splitlines()
    (at,) = [n for n, line in enumerate(lines) if line.strip() == "role: create-task"]
    lines[at] = lines[at].replace("create-task", "make-task")
    spec.write_text("\n".join(lines) + "\n")
    return at + 1


@pytest.mark.parametrize("breaking", [_broken_openapi, _broken_yaml, _broken_extension])
def test_a_broken_spec_is_one_line_naming_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], breaking: Any
) -> None:
    spec = tmp_path / "broken.yaml"
    line = breaking(spec)
    assert main(["serve", "--spec", str(spec), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    expected = rf"sora-mock serve: error: {re.escape(str(spec))}:{line}:\d+: \S"
    assert re.match(expected, err[0]), err[0]


# -- limits and lifetimes of a running server ------------------------------------------------


def _children(parent: int) -> list[int]:
    """The ids of the processes whose parent is ``parent`` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def _free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def _wait_until(ready: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _binds(port: int) -> bool:
    try:
        bind("127.0.0.1", port).close()
    except PortInUseError:
        return False
    return True


def _serves(url: str) -> bool:
    try:
        return httpx.get(f"{url}/__mock/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_die_with_their_parent_so_a_restart_binds_the_port(tmp_path: Path) -> None:
    port = _free_port()
    state = str(tmp_path / "state.db")
    parent = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--workers", "2", "--state", state, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        assert _wait_until(lambda: _serves(f"http://127.0.0.1:{port}"), 30)
        workers = _children(parent.pid)
        assert len(workers) >= 2, workers
        parent.kill()
        parent.wait(timeout=10)
        assert _wait_until(lambda: _binds(port), 10), "the workers still hold the port"
        assert _wait_until(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), 10)
    finally:
        parent.kill()
        parent.wait(timeout=10)
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
    with serve_command("--port", str(port), "--quiet") as (_, url):
        assert url == f"http://127.0.0.1:{port}"
        assert _serves(url)


@pytest.mark.slow
def test_serve_limits_connections_and_logs_refusals_once() -> None:
    process, url = start_serve("--max-connections", "1", "--keep-alive", "60")
    try:
        with socket.create_connection(address(url), timeout=5) as held:
            held.sendall(request("GET", "/__mock/health", close=False))
            assert held.recv(65536).startswith(b"HTTP/1.1 200")
            for _ in range(30):
                refused = exchange(url, request("GET", "/__mock/health"))
                assert refused.status == 503, refused.raw[:200]
                assert refused.json()["error"]["code"] == "service_unavailable"
    finally:
        output = "\n".join(stop_serve(process))
    refusals = [line for line in output.splitlines() if "Refused a connection" in line]
    assert len(refusals) == 1, output
    assert "Traceback" not in output


def test_serve_takes_its_connection_limits() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.keep_alive, args.head_timeout, args.max_connections) == (5, 5.0, None)
    args = build_parser().parse_args(
        ["serve", "--keep-alive", "2", "--head-timeout", "0.5", "--max-connections", "50"]
    )
    assert (args.keep_alive, args.head_timeout, args.max_connections) == (2, 0.5, 50)


def test_serving_beyond_loopback_without_an_admin_token_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this host: the warning comes, then the bind fails.
    assert main(["serve", "--host", "192.0.2.1", "--port", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("sora-mock: warning: listening on 192.0.2.1"), err
    assert "admin" in err[0]
    assert err[1].startswith("sora-mock serve: error: cannot listen on 192.0.2.1:0"), err


def test_serving_on_loopback_does_not_warn(capsys: pytest.CaptureFixture[str]) -> None:
    taken = bind("127.0.0.1", 0)  # the bind after the check fails: nothing is served
    with taken:
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("sora-mock serve: error: port"), err
