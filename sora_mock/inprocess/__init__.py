"""The in-process doors: one handle (:class:`MockAPI`) every door shares; httpx, requests, aiohttp.

A test's requests reach the engine without a socket: through a respx router, a patch of
httpx's transports, or an injected ``httpx.MockTransport``; through ``responses`` for
requests and ``aioresponses`` for aiohttp, where they are installed. The handle records
every call, checks them, and runs virtual time; listeners (:func:`add_listener`) are told
of every mock and call, which is how the pytest plugin counts contract coverage.

Names are loaded on first use: the listener hook costs only the standard library, so the
pytest plugin adds its listener without loading the engine or httpx.
"""

from __future__ import annotations

import typing

from sora_mock._lazy import lazy_names as _lazy_names
from sora_mock.inprocess._listeners import MockListener, add_listener, remove_listener

_EXPORTS = {
    "Call": "sora_mock.inprocess.calls",
    "Calls": "sora_mock.inprocess.calls",
    "ClockLike": "sora_mock.inprocess.handle",
    "ConfigLike": "sora_mock.inprocess.handle",
    "DEFAULT_BASE_URL": "sora_mock.inprocess.handle",
    "HttpxMock": "sora_mock.inprocess.httpx_door",
    "MockAPI": "sora_mock.inprocess.handle",
    "MockTransport": "sora_mock.inprocess.httpx_door",
    "SPEC_VARIABLE": "sora_mock.inprocess.handle",
    "SpecLike": "sora_mock.inprocess.handle",
    "default_spec": "sora_mock.inprocess.handle",
    "load_contract": "sora_mock.inprocess.handle",
    "SoraTransport": "sora_mock.inprocess.httpx_route",
    "TaskState": "sora_mock.inprocess.calls",
    "Via": "sora_mock.inprocess.httpx_door",
    "from_httpx": "sora_mock.inprocess.httpx_route",
    "library_routes": "sora_mock.inprocess._libraries",
    "load_config": "sora_mock.inprocess.handle",
    "mock": "sora_mock.inprocess.httpx_door",
    "route": "sora_mock.inprocess.httpx_route",
    "to_request": "sora_mock.inprocess.httpx_route",
    "transport": "sora_mock.inprocess.httpx_door",
    "virtual_sleep": "sora_mock.inprocess.sleeps",
}

__all__ = [
    "DEFAULT_BASE_URL",
    "SPEC_VARIABLE",
    "Call",
    "Calls",
    "ClockLike",
    "ConfigLike",
    "HttpxMock",
    "MockAPI",
    "MockListener",
    "MockTransport",
    "SoraTransport",
    "SpecLike",
    "TaskState",
    "Via",
    "add_listener",
    "default_spec",
    "from_httpx",
    "library_routes",
    "load_config",
    "load_contract",
    "mock",
    "remove_listener",
    "route",
    "to_request",
    "transport",
    "virtual_sleep",
]

if typing.TYPE_CHECKING:
    from sora_mock.inprocess._libraries import library_routes
    from sora_mock.inprocess.calls import Call, Calls, TaskState
    from sora_mock.inprocess.handle import (
        DEFAULT_BASE_URL,
        SPEC_VARIABLE,
        ClockLike,
        ConfigLike,
        MockAPI,
        SpecLike,
        default_spec,
        load_config,
        load_contract,
    )
    from sora_mock.inprocess.httpx_door import HttpxMock, MockTransport, Via, mock, transport
    from sora_mock.inprocess.httpx_route import SoraTransport, from_httpx, route, to_request
    from sora_mock.inprocess.sleeps import virtual_sleep


__getattr__, __dir__ = _lazy_names(__name__, _EXPORTS)
