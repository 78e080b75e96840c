"""The pieces behind the plugin's fixtures: marker arguments, settings layers, the switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_mock.contract import Request
from sora_mock.engine import MockConfig, RealClock
from sora_mock.errors import UsageError
from sora_mock.inprocess import MockAPI
from sora_mock.pytest_plugin._support import LiveAPI, Switch, marker_arguments, resolve_settings


def test_marker_arguments_closest_last_wins_and_positional_scenario() -> None:
    far = pytest.mark.sora(seed=1, clock=5).mark
    near = pytest.mark.sora("slow", seed=2).mark
    assert marker_arguments([far, near]) == {"seed": 2, "clock": 5, "scenario": "slow"}
    with pytest.raises(UsageError, match="unexpected keyword argument 'colour'"):
        marker_arguments([pytest.mark.sora(colour="red").mark])
    with pytest.raises(UsageError, match="too many positional"):
        marker_arguments([pytest.mark.sora(1, 2, 3, 4, 5).mark])


def test_settings_layers(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("task:\n  estimated_time: 11\n  video_duration: 2\n")
    other = tmp_path / "other.yaml"
    other.write_text("task:\n  estimated_time: 33\n")
    merged = resolve_settings(
        config_file=str(base),
        overrides={"task": {"video_duration": 4}},
        seed=3,
        marker={"config": {"task": {"user_group": "free"}}, "clock": 7},
    )
    values = merged.config.task.values
    assert values == {"estimated_time": 11, "video_duration": 4, "user_group": "free"}
    assert (merged.seed, merged.clock, merged.scenario) == (3, 7, None)
    replaced = resolve_settings(
        config_file=str(base), overrides={}, seed=None, marker={"config": str(other), "seed": 9}
    )
    # The file replaced --sora-config's base: the contract's video_duration is back.
    assert replaced.config.task.values == {"estimated_time": 33}
    assert replaced.seed == 9
    given = MockConfig.defaults()
    assert resolve_settings(config_file=None, overrides={}, seed=0, marker={"config": given})
    with pytest.raises(UsageError, match="must return a mapping"):
        resolve_settings(config_file=None, overrides=[1], seed=0, marker={})  # type: ignore[arg-type]


def test_settings_build_a_mock_at_a_url() -> None:
    settings = resolve_settings(
        config_file=None, overrides=None, seed=4, marker={"clock": RealClock(100)}
    )
    api = settings.build("http://127.0.0.1:9999")
    assert api.base_url == "http://127.0.0.1:9999"
    assert api.engine.seed == 4
    assert isinstance(api.clock, RealClock)


def test_the_switch_answers_from_the_current_mock_only() -> None:
    switch = Switch()
    health = Request.build("GET", "/__mock/health")
    idle = switch(health)
    assert idle.status == 503
    assert idle.json_body()["error"]["code"] == "no_test_running"
    switch.api = MockAPI()
    assert switch(health).status == 200
    assert len(switch.api.calls) == 1


def test_live_api_has_only_a_base_url() -> None:
    live = LiveAPI("http://live.example/")
    assert live.base_url == "http://live.example"
    assert "live.example" in repr(live)
    with pytest.raises(pytest.skip.Exception, match="run_until_idle needs the in-process mock"):
        live.run_until_idle()
    with pytest.raises(AttributeError):
        live._private  # noqa: B018
