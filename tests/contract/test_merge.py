"""Documents merged into one: components renamed where they collide, models chosen by body."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from sora_mock.contract import Contract, spec_paths
from sora_mock.contract.merge import SourceDocument, merge_documents
from tests.contract.conftest import TOY_MODEL, TOY_REQUEST, toy_document


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _bundled_sources() -> list[SourceDocument]:
    return [SourceDocument(yaml.safe_load(p.read_text()), str(p)) for p in spec_paths()]


def _merged_with_toy() -> dict[str, Any]:
    return merge_documents([*_bundled_sources(), SourceDocument(toy_document(), "toy.yaml")])


def test_a_colliding_component_of_other_content_is_renamed_and_refs_follow() -> None:
    merged = _merged_with_toy()
    schemas = merged["components"]["schemas"]
    renamed = [name for name in schemas if name.startswith("VideoGenerationRequest_")]
    assert renamed == ["VideoGenerationRequest_toy_model"]
    assert schemas["VideoGenerationRequest"]["properties"]["model"]["enum"] == ["sora-2-preview"]
    assert schemas[renamed[0]]["properties"] == TOY_REQUEST["properties"]
    request = merged["paths"]["/v1/videos/generations"]["post"]["requestBody"]
    chosen = request["content"]["application/json"]["schema"]["allOf"]
    assert [branch["if"]["properties"]["model"]["enum"] for branch in chosen] == [
        ["sora-character"],
        ["sora-2-preview"],
        [TOY_MODEL],
    ]
    assert chosen[2]["then"] == {"$ref": f"#/components/schemas/{renamed[0]}"}
    # Every reference names a component that exists.
    for ref in _refs(merged):
        section, name = ref.split("/")[2:4]
        assert name in merged["components"][section], ref


def test_identical_components_are_shared() -> None:
    merged = _merged_with_toy()
    schemas = merged["components"]["schemas"]
    for shared in ("TaskStatus", "TaskFailureCode", "ErrorResponse", "VideoTaskResponse"):
        assert shared in schemas
        assert not any(name.startswith(f"{shared}_") for name in schemas), shared


def test_a_component_that_refers_to_a_renamed_one_is_renamed_too() -> None:
    def document(kind: str) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "info": {"title": f"doc {kind}", "version": "1"},
            "paths": {},
            "components": {
                "schemas": {
                    "Leaf": {"type": kind},
                    "Holder": {"properties": {"leaf": {"$ref": "#/components/schemas/Leaf"}}},
                    "Same": {"type": "boolean"},
                }
            },
        }

    merged = merge_documents(
        [SourceDocument(document("string"), "a"), SourceDocument(document("integer"), "b")]
    )
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Leaf", "Holder", "Same", "Leaf_doc_integer", "Holder_doc_integer"}
    assert schemas["Holder_doc_integer"]["properties"]["leaf"] == {
        "$ref": "#/components/schemas/Leaf_doc_integer"
    }
    assert schemas["Holder"]["properties"]["leaf"] == {"$ref": "#/components/schemas/Leaf"}


def test_one_document_is_left_as_it_is() -> None:
    [source] = _bundled_sources()[:1]
    assert merge_documents([source]) == source.data


def test_the_merged_document_is_valid_openapi_and_round_trips(
    monkeypatch: pytest.MonkeyPatch, toy_contract: Contract
) -> None:
    monkeypatch.setenv("SORA_MOCK_NO_SPEC_CACHE", "1")  # check it, whatever was seen before
    merged = toy_contract.document
    again = Contract.from_dict(json.loads(json.dumps(merged)))
    assert set(again.tasks.models) == set(toy_contract.tasks.models)
    assert set(again.tasks.models) == {"sora-character", "sora-2-preview", TOY_MODEL}
    for name, model in toy_contract.tasks.models.items():
        twin = again.tasks.models[name]
        assert (twin.fields, twin.rules, twin.values) == (model.fields, model.rules, model.values)
        assert twin.failure_codes == model.failure_codes
    # Served as YAML, it loads back to the same document.
    assert yaml.safe_load(toy_contract.as_yaml()) == json.loads(json.dumps(merged))


def test_a_merged_contract_names_each_file_it_was_read_from(toy_contract: Contract) -> None:
    files = (*map(str, spec_paths()), toy_contract.sources[-1])
    assert toy_contract.sources == files
    assert toy_contract.sources[-1].endswith("toy.yaml")
    assert toy_contract.source == " + ".join(files)


def test_the_read_answer_follows_the_model_of_the_task(toy_contract: Contract) -> None:
    read = toy_contract.raw_operation(toy_contract.tasks.read)
    schema = read["responses"]["200"]["content"]["application/json"]["schema"]
    models = [branch["if"]["properties"]["model"]["enum"] for branch in schema["allOf"]]
    assert models == [["sora-character"], ["sora-2-preview"], [TOY_MODEL]]
