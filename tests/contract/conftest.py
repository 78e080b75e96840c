"""A toy model beside the bundled ones, whose request schema uses every schema feature the
strategies draw from (bounds, ``const``, arrays, ``$ref``, numbers, a span and a callback
rule). It differs on purpose from :mod:`tests.made_up` (the bundled spec renamed, for
tests that a whole API or model follows its document): this one exercises the schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sora_mock.contract import Contract, spec_paths

TOY_MODEL = "toy-model"
#: The made-up model's request schema: every kind of schema the strategies draw from.
TOY_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["model", "level", "tags"],
    "properties": {
        "model": {"type": "string", "enum": [TOY_MODEL]},
        "level": {"type": "integer", "minimum": 1, "maximum": 5},
        "mode": {"type": "string", "const": "fast"},
        "loud": {"type": "boolean"},
        "tags": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "pattern": "^[a-z]{2,5}$"},
        },
        "window": {
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]+)?,[0-9]+(\\.[0-9]+)?$",
            "x-sora-mock": {"span": {"max": 10}, "message": "Invalid window"},
        },
        "options": {"$ref": "#/components/schemas/ToyOptions"},
        "notify": {"type": "string", "format": "uri", "x-sora-mock": {"callback": True}},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
TOY_OPTIONS = {
    "type": "object",
    "required": ["size"],
    "properties": {"size": {"type": "integer", "enum": [1, 2, 3]}, "name": {"type": "string"}},
}


def toy_document() -> dict[str, Any]:
    """A copy of the second bundled document, its model replaced by the made-up one."""
    document: dict[str, Any] = yaml.safe_load(spec_paths()[1].read_text())
    schemas = document["components"]["schemas"]
    request = next(
        name
        for name, schema in schemas.items()
        if "x-sora-mock" in schema and "properties" in schema
    )
    schemas[request] = {**TOY_REQUEST, "x-sora-mock": schemas[request]["x-sora-mock"]}
    schemas["ToyOptions"] = TOY_OPTIONS
    create = document["paths"]["/v1/videos/generations"]["post"]
    create["operationId"] = "createToy"
    create["requestBody"]["content"]["application/json"]["examples"] = {
        "toy": {"value": {"model": TOY_MODEL, "level": 2, "tags": ["ab"]}}
    }
    return document


@pytest.fixture(scope="session")
def toy_contract(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    """The bundled models and the made-up one, merged."""
    path: Path = tmp_path_factory.mktemp("toy") / "toy.yaml"
    path.write_text(yaml.safe_dump(toy_document(), sort_keys=False))
    return Contract.load(["bundled", path])
