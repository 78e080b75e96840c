"""The in-process doors: one handle (:class:`MockAPI`) that every door shares, and httpx.

A test's requests reach the engine without a socket: through a respx router, a patch of
httpx's transports, or an injected ``httpx.MockTransport``. The handle records every call,
checks them, and runs virtual time.
"""

from sora_mock.inprocess.handle import ClockLike, ConfigLike, MockAPI, load_config
from sora_mock.inprocess.httpx_door import HttpxMock, mock, transport
from sora_mock.inprocess.httpx_route import from_httpx, route, to_request
from sora_mock.inprocess.sleeps import virtual_sleep

__all__ = [
    "ClockLike",
    "ConfigLike",
    "HttpxMock",
    "MockAPI",
    "from_httpx",
    "load_config",
    "mock",
    "route",
    "to_request",
    "transport",
    "virtual_sleep",
]
