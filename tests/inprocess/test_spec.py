"""Choosing the contract of an in-process mock: ``spec=`` and ``SORA_MOCK_SPEC``."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import yaml

import sora_mock
from sora_mock.contract import Contract
from sora_mock.errors import SpecError, UsageError
from sora_mock.inprocess import DEFAULT_BASE_URL, MockAPI, default_spec, load_contract
from tests.helpers import CREATE_PATH, VALID_BODY, auth, create_request
from tests.made_up import BODY, MODEL, write_made_up_model


def _models(api: MockAPI) -> list[str]:
    return list(api.contract.tasks.models)


def test_the_default_is_the_bundled_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SORA_MOCK_SPEC", raising=False)
    assert default_spec() == ("bundled",)
    assert MockAPI().contract is Contract.bundled()


def test_mock_serves_a_spec_file(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    with sora_mock.mock(spec=spec) as api, httpx.Client(base_url=DEFAULT_BASE_URL) as client:
        made_up = client.post(CREATE_PATH, json=BODY, headers=auth())
        bundled = client.post(CREATE_PATH, json=VALID_BODY, headers=auth())
    assert _models(api) == [MODEL]
    assert made_up.status_code == 200
    assert bundled.status_code == 400
    assert bundled.json()["error"]["param"] == "model"


def test_transport_takes_a_list_of_paths_or_a_contract(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    merged = sora_mock.transport(spec=["bundled", str(spec)])
    assert _models(merged.api) == ["sora-character", "sora-2-preview", MODEL]
    with httpx.Client(transport=merged, base_url=DEFAULT_BASE_URL) as client:
        created = client.post(CREATE_PATH, json=BODY, headers=auth())
    assert created.status_code == 200
    given = Contract.bundled()
    assert sora_mock.transport(spec=given).api.contract is given


def test_one_file_is_loaded_once_until_it_changes(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    first = load_contract(spec)
    assert load_contract(str(spec)) is first
    spec.write_text(spec.read_text() + "\n# changed\n")
    os.utime(spec, ns=(1, 1))  # a different modification time, whatever the clock's grain
    assert load_contract(spec) is not first


def test_the_environment_names_the_default_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_made_up_model(tmp_path)
    monkeypatch.setenv("SORA_MOCK_SPEC", os.pathsep.join(["bundled", str(spec)]))
    assert default_spec() == ("bundled", str(spec))
    api = MockAPI()
    assert _models(api) == ["sora-character", "sora-2-preview", MODEL]
    created = api.handle(create_request(BODY))
    assert created.status == 200
    assert _models(MockAPI(spec="bundled")) == ["sora-character", "sora-2-preview"]


def test_a_broken_spec_raises_spec_error_with_its_place(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.1.0\ninfo:\n  title: [x\n")
    with pytest.raises(SpecError) as caught:
        sora_mock.mock(spec=spec)
    assert (caught.value.source, caught.value.line) == (str(spec), 4)
    assert caught.value.column is not None
    assert caught.value.describe().startswith(f"{spec}:4:")


@pytest.mark.parametrize("spec", [[], 42, [1]])
def test_a_spec_that_names_no_document_is_a_usage_error(spec: object) -> None:
    with pytest.raises(UsageError, match="spec"):
        MockAPI(spec=spec)  # type: ignore[arg-type]


def test_a_config_file_is_checked_against_the_spec(tmp_path: Path) -> None:
    spec = write_made_up_model(tmp_path)
    document = yaml.safe_load(spec.read_text())
    document["components"]["schemas"]["TaskFailureCode"]["enum"].append("acme_meltdown")
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    config = tmp_path / "mock.yaml"
    config.write_text(
        "scenarios:\n  - name: melt\n    task: {outcome: failed, failure: {code: acme_meltdown}}\n"
    )
    api = MockAPI(spec=spec, config=config)
    created = api.handle(create_request(BODY, headers={**auth(), "prefer": "scenario=melt"}))
    api.run_until_idle()
    assert api.task(created.json_body()["id"]).body["error"]["code"] == "acme_meltdown"
    with pytest.raises(sora_mock.ConfigError, match="acme_meltdown"):
        MockAPI(config=config)  # not a failure code of the bundled models
