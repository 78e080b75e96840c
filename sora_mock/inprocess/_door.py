"""What every in-process door shares beside the URLs it answers (``_urls``): latency.

:func:`wait_out` carries out a response's ``delay`` on the virtual clock. Each door turns the
rest (faults) into its library's own exceptions.
"""

from __future__ import annotations

from sora_mock.contract import Response
from sora_mock.inprocess.sleeps import virtual_wait

#: The methods the doors register: a registry matches a method exactly.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def wait_out(response: Response, timeout: float | None) -> bool:
    """Let ``response.delay`` pass on the virtual clock, by at most ``timeout``.

    Nothing waits for real: in a thread whose sleeps are virtual
    (:mod:`sora_mock.inprocess.sleeps`) the clock moves, elsewhere the delay is skipped.
    True when the answer comes after ``timeout``: the client must see its timeout error.
    """
    if response.delay > 0:
        virtual_wait(response.delay if timeout is None else min(response.delay, timeout))
    return timeout is not None and response.delay > timeout
