"""The pytest plugin as a user meets it, run through ``pytester``."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sora_mock.engine import Engine, VirtualClock
from sora_mock.server import BackgroundServer

HEAVY = ("uvicorn", "openapi_core", "httpx", "respx", "hypothesis", "jsonschema_rs")
#: The bundled contract's documented items beside the scenarios: operations, status codes,
#: task states and failure codes.
CONTRACT_ITEMS = 2 + 19 + 4 + 16

CLIENT = """
import httpx
import pytest

API = "https://api.evolink.ai"
BODY = {"model": "sora-character", "video_url": "https://example.com/v.mp4"}
AUTH = {"Authorization": "Bearer sk-user-12345678"}


def create(base_url, body=BODY):
    return httpx.post(f"{base_url}/v1/videos/generations", json=body, headers=AUTH)


def poll(base_url, task_id):
    return httpx.get(f"{base_url}/v1/tasks/{task_id}", headers=AUTH)
"""


def _scenario_name() -> str:
    return "fail-service_error"


def test_each_fixture_and_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def sora_config():
            return {"task": {"estimated_time": 99, "video_duration": 5}}
        """
    )
    pytester.makepyfile(
        CLIENT
        + f"""
SCENARIO = {_scenario_name()!r}


def test_sora_api_answers_httpx_in_process(sora_api):
    created = create(API)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["task_info"] == {{"can_cancel": True, "estimated_time": 99, "video_duration": 5}}
    sora_api.run_until_idle()
    assert poll(API, body["id"]).json()["status"] == "completed"
    assert [t.status for t in sora_api.tasks] == ["completed"]
    sora_api.assert_polls(1)
    sora_api.assert_all_requests_valid()


def test_sora_api_is_fresh_per_test(sora_api):
    assert sora_api.tasks == [] and len(sora_api.calls) == 0


def test_sora_server_is_a_real_server(sora_server):
    assert sora_server.base_url.startswith("http://127.0.0.1:")
    task_id = create(sora_server.base_url).json()["id"]
    sora_server.advance(60)
    assert poll(sora_server.base_url, task_id).json()["status"] == "processing"
    assert len(sora_server.tasks) == 1
    sora_server.assert_polls(1)


def test_sora_server_is_reset_per_test(sora_server):
    assert sora_server.tasks == [] and len(sora_server.calls) == 0


def test_sora_spec_is_the_contract(sora_spec):
    assert {{op.operation_id for op in sora_spec.operations}} == {{
        "createCharacterGeneration", "getTaskDetail"
    }}


@pytest.mark.sora(
    scenario=SCENARIO,
    config={{"lifecycle": {{"outcome": "failed"}}, "task": {{"video_duration": 7}}}},
    clock=2_000_000_000,
    seed=42,
)
def test_the_marker_sets_everything(sora_api, sora_server):
    for api in (sora_api, sora_server):
        assert api.scenario == SCENARIO
        assert api.now == 2_000_000_000
        assert api.engine.seed == 42
        config = api.engine.config
        assert config.lifecycle["outcome"] == "failed"
        assert config.task.values == {{"video_duration": 7, "estimated_time": 99}}
    create(API)
    assert sora_api.calls[0].request.headers["prefer"] == f"scenario={{SCENARIO}}"


@pytest.mark.sora(seed=5)
class TestMarkedClass:
    @pytest.mark.sora(clock=10)
    def test_closest_marker_wins_per_argument(self, sora_api):
        assert (sora_api.engine.seed, sora_api.now) == (5, 10)


def test_sora_seed_defaults_to_zero(sora_api, sora_seed):
    assert sora_seed == 0 and sora_api.engine.seed == 0
"""
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_the_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.sora(scenario=None, config=None, clock=None, *"])


def test_a_marker_with_unknown_arguments_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sora(colour="red")
        def test_x(sora_api):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.sora: got an unexpected keyword argument*"])


def test_sora_api_keeps_a_tests_own_respx_routes_in_either_order(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        CLIENT
        + """

def upload_and_create(sora_api, respx_mock):
    respx_mock.put("https://storage.test/upload").respond(204)
    assert httpx.put("https://storage.test/upload").status_code == 204
    created = create(API)
    assert created.json()["id"] == sora_api.calls.last.task_id
    assert (sora_api.via, len(sora_api.calls)) == ("transport", 1)


def test_sora_api_first(sora_api, respx_mock):
    sora_api.router.get("https://cdn.test/v.mp4").respond(200, content=b"video")
    upload_and_create(sora_api, respx_mock)
    assert httpx.get("https://cdn.test/v.mp4").content == b"video"


def test_respx_first(respx_mock, sora_api):
    sora_api.router.get("https://cdn.test/v.mp4").respond(200, content=b"video")
    upload_and_create(sora_api, respx_mock)
    assert httpx.get("https://cdn.test/v.mp4").content == b"video"


@pytest.mark.respx(assert_all_mocked=False)
def test_a_lenient_respx_first(respx_mock, sora_api):
    upload_and_create(sora_api, respx_mock)
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_an_invalid_request_fails_naming_the_field(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """

def test_client_forgets_the_video(sora_api):
    create(API, {"model": "sora-character", "timestamps": "0,5"})
    sora_api.assert_all_requests_valid()
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation: 1 of 1 requests break the contract (field: what is wrong)",
            "*request #1 (t=+0s POST /v1/videos/generations -> 400): "
            "body.video_url: expected a required field, got nothing (absent)",
            "*request #1 (*): timestamps: Invalid timestamps parameter: the span 5s exceeds 2*",
        ]
    )


EXERCISE = (
    CLIENT
    + """

def test_traffic(sora_api):
    task_id = create(API).json()["id"]
    assert poll(API, "task-unified-1-unknown1").status_code == 404
    with sora_api.use_scenario("fail-service_error"):
        failing_id = create(API).json()["id"]
    sora_api.run_until_idle()
    assert poll(API, task_id).json()["status"] == "completed"
    assert poll(API, failing_id).json()["error"]["code"] == "service_error"
"""
)


def test_the_coverage_summary_lists_exactly_what_was_exercised(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(EXERCISE)
    report = pytester.path / "coverage.json"
    result = pytester.runpytest("--sora-coverage=full", f"--sora-coverage-report={report}")
    result.assert_outcomes(passed=1)
    scenarios = len(_builtin_scenarios())
    documented = CONTRACT_ITEMS + scenarios
    result.stdout.re_match_lines(
        [
            r"-+ sora-mock contract coverage -+$",
            r"operations +2/2 100\.0%$",
            r" +seen: createCharacterGeneration ×2, getTaskDetail ×3$",
            r"status codes +3/19  15\.8%$",
            r" +seen: createCharacterGeneration 200 ×2; getTaskDetail 200 ×2, 404 ×1$",
            r" +never: createCharacterGeneration 400, 401, 402, 403, 404, 413, 429, 500, 502, "
            r"503; "
            r"getTaskDetail 400, 401, 402, 403, 429, 500$",
            r"task states +3/4  75\.0%$",
            r" +seen: pending ×2, completed ×1, failed ×1$",
            r" +never: processing$",
            r"failure codes +1/16   6\.2%$",
            r" +seen: service_error ×1$",
            r" +never: content_policy_violation, invalid_parameters, .*, rate_limited$",
            rf"scenarios +1/{scenarios} +[0-9.]+%$",
            r" +seen: fail-service_error ×2$",
            r" +never: create-insufficient_quota, .*, wrong-content-type$",
            rf"total +10/{documented} +[0-9.]+%$",
            f"JSON report written to {re.escape(str(report))}$",
        ],
        consecutive=True,
    )
    data = json.loads(report.read_text())
    categories = data["categories"]
    assert {name: c["exercised"] for name, c in categories.items()} == {
        "operations": {"createCharacterGeneration": 2, "getTaskDetail": 3},
        "status codes": {
            "createCharacterGeneration 200": 2,
            "getTaskDetail 200": 2,
            "getTaskDetail 404": 1,
        },
        "task states": {"completed": 1, "failed": 1, "pending": 2},
        "failure codes": {"service_error": 1},
        "scenarios": {"fail-service_error": 2},
    }
    assert categories["task states"]["missing"] == ["processing"]
    assert len(categories["scenarios"]["missing"]) == scenarios - 1
    assert (data["covered"], data["documented"]) == (10, documented)


def test_the_default_summary_is_the_totals_in_three_lines(pytester: pytest.Pytester) -> None:
    """The default; the full listing's test above shows the same counts item by item."""
    pytester.makepyfile(EXERCISE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    scenarios = len(_builtin_scenarios())
    documented = CONTRACT_ITEMS + scenarios
    result.stdout.re_match_lines(
        [
            r"-+ sora-mock contract coverage -+$",
            rf"10/{documented} documented items exercised \([0-9.]+%\)$",
            r"operations 2/2, status codes 3/19, task states 3/4, failure codes 1/16, "
            rf"scenarios 1/{scenarios}$",
            r"--sora-coverage=full lists what was and was not exercised; =off hides this$",
            r"=+ 1 passed",
        ],
        consecutive=True,
    )
    assert "never:" not in result.stdout.str()


def test_coverage_off_hides_the_summary_but_keeps_report_and_gate(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(EXERCISE)
    report = pytester.path / "coverage.json"
    result = pytester.runpytest(
        "--sora-coverage=off", f"--sora-coverage-report={report}", "--sora-coverage-fail-under=50"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "sora-mock contract coverage -" not in out
    assert "documented items exercised" not in out
    result.stdout.fnmatch_lines(
        ["JSON report written to *", "FAIL Required sora-mock contract coverage of 50% *"]
    )
    assert json.loads(report.read_text())["covered"] == 10


@pytest.mark.parametrize(
    ("ini", "shown", "hidden"),
    [
        ("off", None, "documented items exercised"),
        ("full", "operations *2/2 100.0%", "documented items exercised"),
        ("summary", "10/* documented items exercised *", "never:"),
    ],
)
def test_the_ini_key_sets_the_mode(
    pytester: pytest.Pytester, ini: str, shown: str | None, hidden: str
) -> None:
    pytester.makeini(f"[pytest]\nsora_coverage = {ini}\n")
    pytester.makepyfile(EXERCISE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    if shown is not None:
        result.stdout.fnmatch_lines([shown])
    assert hidden not in result.stdout.str()


def test_the_option_wins_over_the_ini_key_and_both_are_checked(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nsora_coverage = off\n")
    pytester.makepyfile(EXERCISE)
    result = pytester.runpytest("--sora-coverage=summary")
    result.stdout.fnmatch_lines(["10/* documented items exercised *"])
    wrong_option = pytester.runpytest("--sora-coverage=some")
    assert wrong_option.ret == pytest.ExitCode.USAGE_ERROR
    wrong_option.stderr.fnmatch_lines(["*--sora-coverage: invalid choice: 'some'*"])
    pytester.makeini("[pytest]\nsora_coverage = loud\n")
    wrong_ini = pytester.runpytest()
    assert wrong_ini.ret == pytest.ExitCode.USAGE_ERROR
    wrong_ini.stderr.fnmatch_lines(
        ["*the sora_coverage ini key must be one of off, summary, full, got 'loud'*"]
    )


def test_the_summary_says_conformance_tests_are_not_counted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
from sora_mock.conformance import conformance_tests


def client(target):
    return None  # reports success without a request: each situation fails, which is fine


test_client = conformance_tests(client, ["success", "slow"])
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "0/* documented items exercised (0.0%); 2 conformance test(s) not counted (each "
            "serves one forced situation on an engine of its own)",
        ]
    )


def _builtin_scenarios() -> list[str]:
    return Engine(clock=VirtualClock()).scenario_names()


def test_no_summary_when_no_mock_was_used(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_unrelated():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "sora-mock contract coverage" not in result.stdout.str()


def test_the_gate_fails_a_session_below_the_threshold(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(EXERCISE)
    failing = pytester.runpytest("--sora-coverage-fail-under=50")
    failing.assert_outcomes(passed=1)
    assert failing.ret == pytest.ExitCode.TESTS_FAILED
    failing.stdout.fnmatch_lines(
        ["FAIL Required sora-mock contract coverage of 50% not reached: *%"]
    )
    passing = pytester.runpytest("--sora-coverage-fail-under=5")
    assert passing.ret == pytest.ExitCode.OK
    passing.stdout.fnmatch_lines(["Required sora-mock contract coverage of 5% reached: *%"])


def test_options_are_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    missing = pytester.runpytest("--sora-config=nope.yaml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--sora-config: no such file: nope.yaml*"])
    out_of_range = pytester.runpytest("--sora-coverage-fail-under=120")
    assert out_of_range.ret == pytest.ExitCode.USAGE_ERROR


def test_config_file_and_seed_options(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mock="task:\n  estimated_time: 42\n")
    pytester.makepyfile(
        """
        import pytest

        def test_options(sora_api, sora_server):
            for api in (sora_api, sora_server):
                assert api.engine.config.task.values["estimated_time"] == 42
                assert api.engine.seed == 9

        @pytest.mark.sora(config={"task": {"video_duration": 3}})
        def test_marker_merges_over_the_file(sora_api):
            assert sora_api.engine.config.task.values["estimated_time"] == 42
            assert sora_api.engine.config.task.values["video_duration"] == 3
        """
    )
    result = pytester.runpytest("--sora-config=mock.yaml", "--sora-seed=9")
    result.assert_outcomes(passed=2)


def test_the_api_url_ini_option_and_a_bad_override(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsora_api_url = http://gateway.test/sora\n")
    pytester.makepyfile(
        CLIENT
        + """

def test_answers_at_the_configured_url(sora_api):
    assert sora_api.base_url == "http://gateway.test/sora"
    assert create(sora_api.base_url).status_code == 200
    assert sora_api.calls[0].path == "/v1/videos/generations"


class TestBadOverride:
    @pytest.fixture
    def sora_config(self):
        return ["not", "a", "mapping"]

    def test_bad_override(self, sora_api):
        pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the sora_config fixture must return a mapping*"])


SUBPROCESS_CLIENT = """
import json, sys, time, urllib.request
base, auth = sys.argv[1], {"Authorization": "Bearer sk-subprocess-01"}
body = json.dumps({"model": "sora-character", "video_url": "https://e.com/v.mp4"})
request = urllib.request.Request(
    base + "/v1/videos/generations", body.encode(), {**auth, "Content-Type": "application/json"}
)
task = json.load(urllib.request.urlopen(request))
while task["status"] not in ("completed", "failed"):
    time.sleep(0.02)
    poll = urllib.request.Request(base + "/v1/tasks/" + task["id"], headers=auth)
    task = json.load(urllib.request.urlopen(poll))
print(json.dumps(task))
"""


def test_a_subprocess_client_against_sora_server_on_a_fast_real_clock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        f"""
import json, subprocess, sys
import pytest
from sora_mock import RealClock

CLIENT = {SUBPROCESS_CLIENT!r}


# 1000 mock seconds per real second: the 150 s task ends in 0.15 s of real time.
@pytest.mark.sora(clock=RealClock(speed=1000))
def test_any_language_client(sora_server):
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, sora_server.base_url],
        capture_output=True, text=True, timeout=30, check=True,
    )
    task = json.loads(out.stdout)
    assert task["status"] == "completed"
    assert task["result_data"]["profile_picture_url"].startswith(sora_server.base_url)
    assert len(sora_server.calls.polls) >= 1
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_sora_server_delivers_the_callbacks_of_the_current_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        CLIENT
        + """
import http.server, json, threading


@pytest.fixture
def receiver():
    got, arrived = [], threading.Event()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got, arrived
    server.shutdown()
    server.server_close()


def test_first_test_uses_the_server(sora_server):
    assert create(sora_server.base_url).status_code == 200


@pytest.mark.sora(config={"callbacks": {"allow_loopback": True}})
def test_callback_arrives(sora_server, receiver):
    url, got, arrived = receiver
    body = dict(BODY, callback_url=url)
    task_id = create(sora_server.base_url, body).json()["id"]
    sora_server.run_until_idle()
    assert arrived.wait(10), "no callback"
    assert (got[0]["id"], got[0]["status"]) == (task_id, "completed")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


def test_errors_in_the_server_thread_fail_the_test_that_caused_them(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_engine_breaks(sora_server):
            def boom(request):
                raise RuntimeError("engine exploded")
            sora_server.handle = boom  # what the server's handler calls for each request
            response = httpx.get(f"{sora_server.base_url}/__mock/health")
            assert response.status_code == 500
            assert "engine exploded" in response.json()["error"]["message"]

        def test_next_test_is_fine(sora_server):
            assert httpx.get(f"{sora_server.base_url}/__mock/health").status_code == 200
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_engine_breaks*", "*engine exploded*"])


@pytest.fixture
def live_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(Engine(clock=VirtualClock(), seed=1)) as server:
        yield server


def test_base_url_points_the_fixtures_at_a_live_server(
    pytester: pytest.Pytester, live_server: BackgroundServer
) -> None:
    pytester.makepyfile(
        CLIENT
        + """

def test_talks_to_the_live_server(sora_api, sora_server):
    assert sora_api.base_url == sora_server.base_url != API
    created = create(sora_server.base_url)
    assert created.status_code == 200


def test_clock_control_is_skipped(sora_api):
    sora_api.advance(10)


@pytest.mark.sora(scenario="anything")
def test_scenarios_are_skipped(sora_server):
    pass
"""
    )
    result = pytester.runpytest(f"--sora-base-url={live_server.base_url}", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*advance needs the in-process mock; the fixtures point at the live server *",
            "*scenario 'anything' needs the mock; --sora-base-url is set*",
        ]
    )
    assert len(live_server.engine.store) == 1


def test_loading_the_plugin_imports_nothing_heavy(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(
        f"""
        import sys
        import pytest

        HEAVY = {HEAVY!r}

        @pytest.hookimpl(trylast=True)
        def pytest_unconfigure(config):
            print("HEAVY AT EXIT:", sorted(m for m in HEAVY if m in sys.modules))
        """
    )
    pytester.makepyfile(
        f"""
        import sys

        def test_nothing_heavy_was_imported(request):
            assert request.config.pluginmanager.has_plugin("sora_mock.pytest_plugin")
            assert [m for m in {HEAVY!r} if m in sys.modules] == []
        """
    )
    # Only this plugin is loaded (respx's and anyio's own plugins would import httpx).
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess(
        "-p", "sora_mock.pytest_plugin", "--sora-seed=1", "-s", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["HEAVY AT EXIT: []"])


@pytest.mark.slow
def test_works_under_xdist(pytester: pytest.Pytester) -> None:
    body = (
        CLIENT
        + """

def test_server_{n}(sora_server):
    task_id = create(sora_server.base_url).json()["id"]
    sora_server.run_until_idle()
    assert poll(sora_server.base_url, task_id).json()["status"] == "completed"
    assert len(sora_server.tasks) == 1  # nothing from other tests or workers


def test_api_{n}(sora_api):
    create(API)
    assert len(sora_api.tasks) == 1
"""
    )
    pytester.makepyfile(**{f"test_part{n}": body.replace("{n}", str(n)) for n in range(4)})
    report = pytester.path / "coverage.json"
    result = pytester.runpytest(
        "-n",
        "2",
        "--sora-coverage=full",
        f"--sora-coverage-report={report}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*sora-mock contract coverage*", "operations *2/2 100.0%"])
    data = json.loads(report.read_text())["categories"]
    # Every worker's traffic, merged: 8 creates and 4 polls in all.
    assert data["operations"]["exercised"] == {
        "createCharacterGeneration": 8,
        "getTaskDetail": 4,
    }
    assert data["task states"]["exercised"] == {"pending": 8, "completed": 4}


def test_plugin_module_is_found_by_entry_point() -> None:
    from importlib.metadata import entry_points

    found = [e for e in entry_points(group="pytest11") if e.name == "sora_mock"]
    assert [e.value for e in found] == ["sora_mock.pytest_plugin"]
    assert "sora_mock.pytest_plugin" in sys.modules  # loaded in this very session


def test_docs_list_every_fixture_marker_and_option() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "pytest-plugin.md").read_text()
    names = [
        "sora_api",
        "sora_server",
        "sora_spec",
        "sora_config",
        "sora_seed",
        "@pytest.mark.sora(scenario=None, config=None, clock=None, seed=None, spec=None)",
        "--sora-spec",
        "--sora-config",
        "--sora-seed",
        "--sora-base-url",
        "--sora-coverage",
        "--sora-coverage-report",
        "--sora-coverage-fail-under",
        "sora_api_url",
        "sora_coverage",
    ]
    assert [n for n in names if f"`{n}" not in docs] == []
