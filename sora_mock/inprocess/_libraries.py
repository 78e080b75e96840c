"""The doors for ``requests`` and ``aiohttp``, each where its library is installed.

Example::

    with library_routes("https://api.evolink.ai", api.handle):
        requests.get("https://api.evolink.ai/__mock/health")
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from sora_mock.inprocess._door import Handler

_Route = Callable[..., contextlib.AbstractContextManager[Any]]


def available_routes() -> dict[str, _Route]:
    """The door of each installed library (``requests``, ``aiohttp``), by library name."""
    found: dict[str, _Route] = {}
    try:
        from sora_mock.inprocess.requests_door import requests_route
    except ImportError:
        pass
    else:
        found["requests"] = requests_route
    try:
        from sora_mock.inprocess.aiohttp_door import aiohttp_route
    except ImportError:
        pass
    else:
        found["aiohttp"] = aiohttp_route
    return found


@contextlib.contextmanager
def library_routes(
    base_url: str, handle: Handler, *, exclusive: bool = False
) -> Iterator[dict[str, Any]]:
    """Within the block, ``requests`` and ``aiohttp`` calls under ``base_url`` go to
    ``handle`` (each library that is installed; one that is not is left alone).

    Yields each library's mock by library name: the ``responses.RequestsMock`` and the
    ``aioresponses`` mock, to which a test may add its own responses for other hosts.
    """
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(route(base_url, handle, exclusive=exclusive))
            for name, route in available_routes().items()
        }
