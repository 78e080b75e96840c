"""What a whole task lifecycle through a library's door must leave behind (requests, aiohttp)."""

from __future__ import annotations

import sora_mock


def assert_whole_lifecycle(api: sora_mock.MockAPI, statuses: list[str]) -> None:
    """The task completed after a create with ``?a=1`` and a JSON body, then 15 polls 10 s apart,
    every request valid."""
    assert statuses[-1] == "completed"
    assert api.calls[0].request.query == "a=1"
    assert api.calls[0].request.headers["content-type"] == "application/json"
    api.assert_all_requests_valid()
    api.assert_polls(15)
    api.assert_poll_interval(10)
