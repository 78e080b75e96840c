"""The harness follows the contract: the second bundled model, and a made-up API's model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pytest

from sora_mock.conformance import ConformanceReport, Harness, Target, catalogue
from sora_mock.contract import Contract
from sora_mock.errors import UsageError
from tests.conformance_clients import polite
from tests.made_up import (
    BODY,
    CREATE_OPERATION,
    ID_PREFIX,
    MODEL,
    NAME_FIELD,
    READ_OPERATION,
    RESULT_FIELDS,
    SPAN_FIELD,
    URL_FIELD,
    write_made_up_api,
)

if TYPE_CHECKING:  # the file is loaded by path at run time; mypy reads it as a module
    from examples.clients.polite_client import CharacterClient as Base
else:
    Base = polite.CharacterClient

Report = Callable[[dict[str, Any]], dict[str, Any]]


class TaskClient(Base):
    """The polite example client for any model: it sends the body it is given and ends
    with the completed task's body."""

    def read_task(self, task: dict[str, Any]) -> Any:
        if task["status"] == "completed":
            return task
        return super().read_task(task)


def task_client(
    report: Report,
    body: Callable[[Target], dict[str, Any]] | None = None,
    contract: Contract | None = None,
) -> Any:
    """A conformance client running :class:`TaskClient` on the paths of ``contract``
    (default: the bundled one); ``report`` picks what it reports from the completed task,
    ``body`` may change the create body."""
    tasks = (contract or Contract.bundled()).tasks
    read = tasks.read.path.replace(f"{{{tasks.id_parameter}}}", "{task_id}")

    def run(target: Target) -> dict[str, Any]:
        client = TaskClient(target.base_url, target.api_key)
        client.task_path = read
        try:
            sent = body(target) if body is not None else target.body
            task = client.call("POST", tasks.create.path, sent)
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


@pytest.fixture(scope="module")
def made_up(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    return Contract.load([write_made_up_api(tmp_path_factory.mktemp("spec"))])


def named(task: dict[str, Any]) -> dict[str, Any]:
    """The generated name in the made-up model's result."""
    return {NAME_FIELD: task[RESULT_FIELDS[0]][NAME_FIELD]}


def test_a_made_up_model_is_served_and_judged_from_its_spec(made_up: Contract) -> None:
    assert list(made_up.tasks.models) == [MODEL]
    harness = Harness(contract=made_up, examples=3)
    assert harness.subject.body == BODY
    good = harness.check(task_client(named, contract=made_up))
    assert good.passed, good.to_text()
    names = [r.situation.name for r in good.results]
    assert "fail-content_policy_violation" in names
    assert "estimated-time-zero" in names
    success = good.result("success").run
    assert success.outcome.values[NAME_FIELD].startswith("lbl_")
    assert {e.operation for e in success.exchanges} == {CREATE_OPERATION, READ_OPERATION}
    assert all(e.task_id.startswith(ID_PREFIX) for e in success.exchanges if e.task_id)


def test_a_made_up_model_flags_a_bad_client(made_up: Contract) -> None:
    harness = Harness(contract=made_up, examples=0)
    liar = task_client(lambda task: {NAME_FIELD: "lbl_Invented"}, contract=made_up)
    wide = task_client(
        named, body=lambda target: {**target.body, SPAN_FIELD: "0,5"}, contract=made_up
    )
    old = task_client(
        named, body=lambda target: {"model": MODEL, "video_url": "x"}, contract=made_up
    )
    lied = harness.check(liar, ["success"]).result("success").verdict("outcome")
    assert lied.failed
    assert f"reported {NAME_FIELD} 'lbl_Invented', but the task made lbl_" in lied.message
    refused = harness.check(wide, ["success"]).result("success").verdict("valid-requests")
    assert refused.failed
    assert f"Invalid {SPAN_FIELD} parameter" in refused.message
    stale = harness.check(old, ["success"]).result("success")
    assert stale.verdict("valid-requests").failed
    assert URL_FIELD in stale.verdict("valid-requests").message
