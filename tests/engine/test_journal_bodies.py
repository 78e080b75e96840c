"""The journal route's bodies (bounded, masked) and filters, checked against
spec/mock-admin.yaml."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from sora_mock.contract.messages import Response
from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import BODY_LIMIT, Journal
from tests.helpers import TOKEN, VALID_BODY, admin_call, create, create_request, poll

OTHER = "sk-test-9876543210"


def _journal(engine: Engine, query: str = "") -> Response:
    return admin_call(engine, "GET", "/__mock/journal", query=query)


def _entries(engine: Engine, query: str = "") -> list[dict[str, Any]]:
    response = _journal(engine, query)
    assert response.status == 200, response.body
    entries: list[dict[str, Any]] = response.json_body()["entries"]
    return entries


def test_an_entry_shows_its_request_and_response_with_the_token_masked(engine: Engine) -> None:
    created = create(engine)
    [entry] = _entries(engine, "mock_routes=false")
    assert json.loads(entry["request"]["body"]) == VALID_BODY
    assert json.loads(entry["response"]["body"]) == created.json_body()
    assert entry["request"]["headers"] == {
        "authorization": "Bearer sk-t…89",
        "content-type": "application/json",
    }
    assert entry["response"]["headers"] == {"content-type": "application/json"}
    assert entry["request"]["body_size"] == len(create_request().body)
    assert not entry["request"]["body_truncated"]
    assert not entry["request"]["body_dropped"]
    assert TOKEN not in _journal(engine).body.decode()


def test_an_entry_s_repr_holds_no_token(engine: Engine) -> None:
    entry = engine.exchange(create_request()).entry
    assert entry is not None
    assert entry.authorization == f"Bearer {TOKEN}"  # kept, for ?token= with the full token
    assert TOKEN not in repr(entry)


def test_a_token_copied_into_a_body_is_masked_too(engine: Engine) -> None:
    create(engine, {**VALID_BODY, "video_url": f"https://example.com/{TOKEN}.mp4"})
    text = _journal(engine).body.decode()
    assert TOKEN not in text
    assert "https://example.com/sk-t…89.mp4" in text


def test_a_token_the_limit_cuts_in_two_is_masked_too(engine: Engine) -> None:
    sent = json.dumps({**VALID_BODY, "video_url": f"https://example.com/{TOKEN}.mp4"})
    padding = "v" * (BODY_LIMIT - sent.index(TOKEN) - 6)  # the limit keeps 6 of its characters
    create(engine, sent.replace(TOKEN, padding + TOKEN).encode())
    [entry] = _entries(engine, "mock_routes=false")
    text = entry["request"]["body"]
    assert entry["request"]["body_truncated"] is True
    assert TOKEN[:8] not in text
    assert text.endswith("sk-t…89")


def test_markup_in_a_body_is_kept_as_text(engine: Engine) -> None:
    evil = '<img src=x onerror="alert(1)">'
    create(engine, {**VALID_BODY, "video_url": evil})
    [entry] = _entries(engine, "mock_routes=false")
    assert evil in json.loads(entry["request"]["body"])["video_url"]


def test_a_long_body_is_cut_and_says_so(engine: Engine) -> None:
    create(engine, {**VALID_BODY, "video_url": "https://example.com/" + "v" * 10_000})
    [entry] = _entries(engine, "mock_routes=false")
    request = entry["request"]
    assert request["body_truncated"] is True
    assert request["body_size"] > 10_000
    assert len(request["body"].encode()) == BODY_LIMIT


def test_the_body_budget_drops_the_oldest_bodies_and_keeps_the_entries() -> None:
    journal = Journal(threading.RLock(), body_limit=100, body_budget=250)
    for n in range(5):
        journal.record(
            time=0.0,
            method="POST",
            path="/x",
            operation="op",
            token=None,
            status=200,
            request_body=b"q" * 60,
            response_body=b"r" * (200 if n == 4 else 40),
        )
    entries = list(journal)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    kept = [len(e.request_body) + len(e.response_body) for e in entries]
    assert kept == [0, 0, 0, 0, 160]  # the last one alone: 60 + 100 (cut)
    assert all(e.request_size == 60 for e in entries)
    assert entries[4].response_size == 200


def test_bodies_leave_the_budget_with_their_entries() -> None:
    journal = Journal(threading.RLock(), size=2, body_limit=100, body_budget=200)
    for _ in range(10):
        journal.record(
            time=0.0, method="GET", path="/x", operation="op", token=None, status=200,
            response_body=b"r" * 100,
        )  # fmt: skip
    assert [len(e.response_body) for e in journal] == [100, 100]


def test_the_mock_s_own_routes_keep_no_bodies(engine: Engine) -> None:
    create(engine)
    _journal(engine)
    _journal(engine)  # its answer would otherwise hold the previous one
    own = [e for e in _entries(engine) if e["operation"] == "mock"]
    assert len(own) == 2  # the read that lists them is recorded after it answers
    assert all(e["response"]["body"] is None and e["response"]["body_size"] == 0 for e in own)


def test_filters_by_task_status_and_token(engine: Engine, clock: VirtualClock) -> None:
    mine = create(engine).json_body()["id"]
    theirs = create(engine, token=OTHER).json_body()["id"]
    engine.handle(create_request({"model": "nope"}))
    clock.advance(1000)
    poll(engine, mine)
    poll(engine, "task-unified-1-zzzzzzzz")

    def seqs(query: str) -> list[str | None]:
        return [e["task_id"] for e in _entries(engine, query + "&mock_routes=false")]

    assert seqs(f"task_id={mine}") == [mine, mine]
    assert seqs(f"task_id={theirs}") == [theirs]
    assert seqs("status=400") == [None]
    assert seqs("status=4xx") == [None, "task-unified-1-zzzzzzzz"]
    assert seqs("status=completed") == [mine]
    assert seqs("status=pending") == [mine, theirs]
    assert seqs(f"token={OTHER}") == [theirs]
    assert seqs("token=sk-t…10") == [theirs]
    assert len(seqs(f"token={TOKEN}")) == 4
    assert seqs("token=sk-test-unknown-89") == []  # masks as TOKEN does, but is not it
    body = _journal(engine, f"token={TOKEN}").body.decode()
    assert TOKEN not in body


def test_the_mock_s_own_routes_can_be_left_out(engine: Engine) -> None:
    create(engine)
    _journal(engine)
    assert {e["operation"] for e in _entries(engine)} == {"createCharacterGeneration", "mock"}
    assert {e["operation"] for e in _entries(engine, "mock_routes=false")} == {
        "createCharacterGeneration"
    }


@pytest.mark.parametrize(
    "query",
    [
        "since=abc",
        "since=-1",
        "limit=1.5",
        "status=600",
        "status=6xx",
        "status=done",
        "status=",
        "mock_routes=maybe",
        "order=latest",
        "since=" + "9" * 40,
    ],
)
def test_bad_filter_values_get_the_error_envelope(engine: Engine, query: str) -> None:
    response = _journal(engine, query)
    assert response.status == 400
    assert response.json_body()["error"]["code"] == "invalid_request"


def test_the_newest_matching_entries_are_found_past_the_mocks_own_reads(engine: Engine) -> None:
    first = create(engine).json_body()["id"]
    last = create(engine).json_body()["id"]
    for _ in range(30):  # a page reading the admin API, many times over
        _journal(engine, "limit=0")
    newest = _entries(engine, "order=newest&limit=1&mock_routes=false")
    assert [e["task_id"] for e in newest] == [last]
    both = _entries(engine, "order=newest&limit=5&mock_routes=false")
    assert [e["task_id"] for e in both] == [first, last]  # listed oldest first
    oldest = _entries(engine, "limit=1&mock_routes=false")
    assert [e["task_id"] for e in oldest] == [first]


def test_a_journal_that_keeps_no_entries_keeps_no_bodies() -> None:
    journal = Journal(threading.RLock(), size=0)
    with journal._recorded:
        journal.record(
            time=0.0,
            method="POST",
            path="/x",
            operation=None,
            token=None,
            status=200,
            request_body=b"{}",
            response_body=b"{}",
        )
    assert list(journal) == []
    assert journal._body_bytes == 0
