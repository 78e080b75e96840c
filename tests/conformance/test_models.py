"""The harness follows the contract: the second bundled model, and a model from a user's spec."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import yaml

from sora_mock.conformance import ConformanceReport, Harness, Target, catalogue
from sora_mock.contract import Contract, spec_path
from sora_mock.errors import UsageError
from tests.conformance_clients import polite

if TYPE_CHECKING:  # the file is loaded by path at run time; mypy reads it as a module
    from examples.clients.polite_client import CharacterClient as Base
else:
    Base = polite.CharacterClient

Report = Callable[[dict[str, Any]], dict[str, Any]]

#: The made-up model: the bundled character spec with its names changed.
RENAMED = {
    "sora-character": "puppet-maker",
    "video_url": "clip_url",
    "timestamps": "window",
    "result_data": "output",
    "character_name": "persona_name",
    "profile_picture_url": "portrait_url",
    "results": "assets",
    "createCharacterGeneration": "makePuppet",
    "getTaskDetail": "readJob",
}
BUNDLED_PREFIX = Contract.bundled().tasks.id_prefix


class TaskClient(Base):
    """The polite example client for any model: it sends the body it is given and ends
    with the completed task's body."""

    def read_task(self, task: dict[str, Any]) -> Any:
        if task["status"] == "completed":
            return task
        return super().read_task(task)


def task_client(report: Report, body: Callable[[Target], dict[str, Any]] | None = None) -> Any:
    """A conformance client running :class:`TaskClient`; ``report`` picks what it reports
    from the completed task, ``body`` may change the create body."""

    def run(target: Target) -> dict[str, Any]:
        client = TaskClient(target.base_url, target.api_key)
        try:
            sent = body(target) if body is not None else target.body
            task = client.call("POST", "/v1/videos/generations", sent)
            done = cast(dict[str, Any], client.wait(task["id"]))  # read_task gives the body
        finally:
            client.http.close()
        return {"status": "completed", **report(done)}

    return run


def first_result(task: dict[str, Any]) -> dict[str, Any]:
    return {"result": task["results"][0]}


@pytest.fixture(scope="module")
def preview_report() -> ConformanceReport:
    return Harness(model="sora-2-preview").check(task_client(first_result), name="preview")


def test_a_polite_client_of_the_second_model_keeps_every_rule(
    preview_report: ConformanceReport,
) -> None:
    assert preview_report.passed, preview_report.to_text()
    assert preview_report.settings["model"] == "sora-2-preview"
    assert "model sora-2-preview" in preview_report.to_text()
    success = preview_report.result("success")
    assert "/__mock/files/" in success.run.outcome.values["result"]
    assert "/video.mp4?expires=" in success.run.outcome.values["result"]


def test_the_situations_follow_the_model_under_test() -> None:
    contract = Contract.bundled()
    preview = {s.name: s for s in catalogue(contract, "sora-2-preview")}
    model = contract.tasks.models["sora-2-preview"]
    assert {n for n in preview if n.startswith("fail-")} == {
        f"fail-{c}" for c in model.failure_codes
    }
    assert "completed after 300 s" in preview["success"].description
    assert preview["slow"].task == {"pending_seconds": 30.0, "processing_seconds": 570.0}
    character = {s.name: s for s in catalogue(contract)}
    assert character["slow"].task == {"pending_seconds": 30.0, "processing_seconds": 270.0}
    assert character["estimated-time-zero"].task == {"result": {"estimated_time": 0}}
    assert character["estimated-time-zero"].description == (
        "task_info.estimated_time is 0 (valid: a minimum of 0)."
    )
    with pytest.raises(UsageError, match=r"no model 'sora-3'.*'sora-character', 'sora-2-preview'"):
        catalogue(contract, "sora-3")


def test_the_target_carries_the_model_and_its_documented_body() -> None:
    seen: list[Target] = []

    def client(target: Target) -> Any:
        seen.append(target)
        return task_client(first_result)(target)

    Harness(model="sora-2-preview", examples=0).check(client, ["success"])
    Harness(examples=0).check(client, ["success"])
    preview, character = seen
    models = Contract.bundled().tasks.models
    assert (preview.model, preview.body) == ("sora-2-preview", models["sora-2-preview"].example)
    assert preview.video_url is None  # its example has no URL field
    assert (character.model, character.body) == ("sora-character", models["sora-character"].example)
    assert character.video_url == character.body["video_url"]


def test_a_reported_result_must_be_in_the_completed_task() -> None:
    made_up = task_client(lambda task: {"result": "https://example.com/not-made.mp4"})
    result = Harness(model="sora-2-preview", examples=0).check(made_up, ["success"])
    verdict = result.result("success").verdict("outcome")
    assert verdict.failed
    assert "reported result 'https://example.com/not-made.mp4', which no completed task" in (
        verdict.message
    )


# -- a model from a user's spec --------------------------------------------------------------


def made_up_spec_text() -> str:
    """The bundled character spec, loaded as a dict, with every name in :data:`RENAMED`
    (and the task id prefix) changed, dumped to YAML."""
    document = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    return yaml.safe_dump(_renamed(document), sort_keys=False)


def _renamed(node: Any) -> Any:
    if isinstance(node, dict):
        return {_renamed(key): _renamed(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item) for item in node]
    if isinstance(node, str):
        words = "|".join(re.escape(word) for word in RENAMED)
        node = node.replace(BUNDLED_PREFIX, "job-")
        return re.sub(rf"(?<![\w-])({words})(?![\w-])", lambda m: RENAMED[m.group(1)], node)
    return node


@pytest.fixture(scope="module")
def made_up_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "puppet-maker.yaml"
    path.write_text(made_up_spec_text(), encoding="utf-8")
    return path


def persona(task: dict[str, Any]) -> dict[str, Any]:
    return {"persona_name": task["output"]["persona_name"]}


def test_a_made_up_model_is_served_and_judged_from_its_spec(made_up_spec: Path) -> None:
    contract = Contract.load([made_up_spec])
    assert list(contract.tasks.models) == ["puppet-maker"]
    harness = Harness(contract=contract, examples=3)
    assert harness.subject.body == {
        "model": "puppet-maker",
        "clip_url": "https://example.com/video.mp4",
        "window": "1,3",
    }
    good = harness.check(task_client(persona))
    assert good.passed, good.to_text()
    names = [r.situation.name for r in good.results]
    assert "fail-content_policy_violation" in names
    assert "estimated-time-zero" in names
    success = good.result("success").run
    assert success.outcome.values["persona_name"].startswith("chr_")
    assert {e.operation for e in success.exchanges} == {"makePuppet", "readJob"}
    assert all(e.task_id.startswith("job-") for e in success.exchanges if e.task_id)


def test_a_made_up_model_flags_a_bad_client(made_up_spec: Path) -> None:
    harness = Harness(contract=Contract.load([made_up_spec]), examples=0)
    liar = task_client(lambda task: {"persona_name": "chr_Invented"})
    wide = task_client(persona, body=lambda target: {**target.body, "window": "0,5"})
    old = task_client(persona, body=lambda target: {"model": "puppet-maker", "video_url": "x"})
    lied = harness.check(liar, ["success"]).result("success").verdict("outcome")
    assert lied.failed
    assert "reported persona_name 'chr_Invented', but the task made chr_" in lied.message
    refused = harness.check(wide, ["success"]).result("success").verdict("valid-requests")
    assert refused.failed
    assert "Invalid window parameter" in refused.message
    stale = harness.check(old, ["success"]).result("success")
    assert stale.verdict("valid-requests").failed
    assert "clip_url" in stale.verdict("valid-requests").message
