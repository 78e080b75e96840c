"""Reading request bodies: strings that are not Unicode (lone surrogate escapes) are refused
with the create operation's documented 400, never an encoding error."""

from __future__ import annotations

import json

import pytest

from sora_mock.contract.messages import Request
from sora_mock.engine.core import Engine
from sora_mock.engine.inbound import UnpairedSurrogateError, strict_json
from tests.helpers import create, create_request, error_of

LONE = "\\ud800"
BODY = (
    '{{"model": "sora-character", "video_url": "https://example.com/v{}.mp4", "timestamps": "1,3"}}'
)


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (BODY.format(LONE), "video_url"),
        (BODY.format("\\uDFFF"), "video_url"),  # a low half alone, in upper case
        (BODY.format("\\ude00\\ud83d"), "video_url"),  # both halves, in the wrong order
        ('{"model": "sora-character", "extra": {"deep": ["\\udbff"]}}', "extra"),
        ('{"model": "sora-character", "x\\ud800": 1}', None),  # a key: no param to name
    ],
)
def test_a_lone_surrogate_gets_the_documented_400(
    engine: Engine, raw: str, param: str | None
) -> None:
    response = engine.handle(create_request(raw.encode()))
    assert response.status == 400
    error = error_of(response)
    documented = engine.tasks.create.error(400).envelope(None, None)["error"]
    assert (error["code"], error["type"]) == (documented["code"], documented["type"])
    assert "surrogate" in error["message"]
    assert error.get("param") == param
    entry = list(engine.journal)[-1]
    assert entry.status == 400
    assert entry.violations == ("unpaired surrogate",)
    # The journal, with the refused request in it, still reads.
    journal = engine.handle(Request.build("GET", "/__mock/journal", client="127.0.0.1"))
    assert journal.status == 200


def test_a_pair_written_as_escapes_is_one_character(engine: Engine) -> None:
    raw = BODY.format("\\ud83d\\ude00").encode()
    assert strict_json(raw)["video_url"] == "https://example.com/v\U0001f600.mp4"
    assert engine.handle(create_request(raw)).status != 500


def test_an_escaped_backslash_before_u_is_no_surrogate() -> None:
    assert strict_json(b'{"a": "\\\\ud800"}') == {"a": "\\ud800"}


def test_the_parser_names_the_field() -> None:
    with pytest.raises(UnpairedSurrogateError) as caught:
        strict_json(b'{"ok": "x", "bad": ["y", "\\ud800"]}')
    assert caught.value.field == "bad"
    assert isinstance(caught.value, ValueError)


def test_a_body_matched_by_a_loaded_scenario_still_gets_the_400(engine: Engine) -> None:
    loaded = {
        "scenarios": [
            {
                "name": "by-url",
                "match": {"body": {"video_url": {"regex": "example"}}},
                "create": {"latency": 0.5},
            }
        ]
    }
    put = Request.build(
        "PUT",
        "/__mock/scenarios",
        body=json.dumps(loaded).encode(),
        headers={"content-type": "application/json"},
        client="127.0.0.1",
    )
    assert engine.handle(put).status == 200
    response = engine.handle(create_request(BODY.format(LONE).encode()))
    assert response.status == 400
    assert error_of(response)["param"] == "video_url"
    assert create(engine).status == 200
