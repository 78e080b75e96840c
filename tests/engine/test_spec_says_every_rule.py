"""The document the mock serves says every rule it enforces: a body valid against a model's
request schema (as a spec-driven fuzzer would draw it, ignoring the extension) is accepted,
or refused only by a rule the document's ``x-sora-mock`` extension describes on that field."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sora_mock.contract import Contract, Request
from sora_mock.contract.schema_values import schema_values_of
from sora_mock.engine import Engine, VirtualClock
from sora_mock.engine.core import SPEC_PATH

ENGINE = Engine(clock=VirtualClock(), seed=1)
#: What a fuzzer reads: the document the mock serves, not the files it was started with.
SERVED = Contract.from_dict(yaml.safe_load(ENGINE.handle(Request.build("GET", SPEC_PATH)).body))
HEADERS = {"authorization": "Bearer sk-fuzz-0123456789", "content-type": "application/json"}


def _schema_valid_bodies(model: str) -> st.SearchStrategy[Any]:
    """Bodies valid against the served schema of ``model`` alone (no extension rule)."""
    values = schema_values_of(SERVED)
    return values.values(SERVED.tasks.models[model].request_schema)


def _described_rules(model: str) -> set[str]:
    """The fields whose refusals the served document describes in an extension rule."""
    rules = SERVED.tasks.models[model].rules.values()
    return {rule.field for rule in rules if rule.span_max is not None or rule.callback}


@pytest.mark.parametrize("model", sorted(SERVED.tasks.models))
def test_a_schema_valid_body_is_refused_only_by_a_described_rule(model: str) -> None:
    described = _described_rules(model)

    @settings(max_examples=150, deadline=None)
    @given(_schema_valid_bodies(model))
    def check(body: dict[str, Any]) -> None:
        request = Request.build(
            "POST", "/v1/videos/generations", headers=HEADERS, body=json.dumps(body).encode()
        )
        answer = ENGINE.handle(request)
        if answer.status != 200:
            error = json.loads(answer.body)["error"]
            assert answer.status == 400, answer.body
            assert error.get("param") in described, (body, error)

    check()
