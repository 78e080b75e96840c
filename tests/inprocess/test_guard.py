"""The guard: a call to the guarded host that no mock answers fails, even when swallowed."""

from __future__ import annotations

import httpx
import pytest

from sora_mock.errors import UnmockedCallError
from sora_mock.inprocess.guard import Guard, Refusal

HOST = "http://sora.test"


def test_a_swallowed_refusal_is_raised_when_the_block_ends() -> None:
    guard = Guard(HOST, hint="use the mock")
    swallowed = pytest.raises(UnmockedCallError, match=r"GET http://sora.test/a: .*use the mock")
    with swallowed, guard.watching():
        for path in ("a", "b"):
            with pytest.raises(UnmockedCallError):
                httpx.get(f"{HOST}/{path}")
    assert guard.refused == Refusal("GET", f"{HOST}/a")  # the first one


def test_each_block_starts_clean_and_an_error_of_the_block_wins() -> None:
    guard = Guard(HOST, hint="use the mock")
    with pytest.raises(UnmockedCallError), guard.watching():
        httpx.get(f"{HOST}/a")  # not swallowed: the block's own error, raised once
    with guard.watching():
        pass
    assert guard.refused is None


def test_the_guard_covers_its_origin_with_default_ports() -> None:
    guard = Guard("https://API.example.com/v1", hint="")
    assert guard.covers("https://api.example.com:443/other")
    assert not guard.covers("http://api.example.com/v1")
    assert not guard.covers("https://api.example.com:8443/v1")
