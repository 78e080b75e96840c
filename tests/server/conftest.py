"""Fixtures of the server tests: sora-mock's server on each HTTP parser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.core import Engine
from sora_mock.server.protocols import HttpName
from sora_mock.server.runner import BackgroundServer

#: The HTTP/1.1 parsers the server runs on (httptools is the ``fast`` extra's).
PARSERS: list[HttpName] = ["h11", "httptools"]


@pytest.fixture(scope="module", params=PARSERS)
def mock_server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    """sora-mock's server on each parser, one per module: its engine keeps what earlier tests
    of the module did."""
    with BackgroundServer(Engine(clock=VirtualClock(), seed=7), http=request.param) as running:
        yield running
