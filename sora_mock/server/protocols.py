"""uvicorn's HTTP/1.1 protocols with sora-mock's edge: JSON envelopes and a head limit.

Out of the box uvicorn answers a request it cannot parse with a plain-text 400, and bounds
a request head only while h11 still buffers it incomplete (``h11_max_incomplete_event_size``);
httptools has no bound at all. The subclasses here override what uvicorn offers for this
(``send_400_response``, and httptools' parser callbacks) and nothing else:

- a request line plus headers over :data:`~sora_mock.server.asgi.MAX_HEAD_BYTES` (16 KiB)
  that is still arriving answers ``431`` with the error envelope (a head that arrives whole
  reaches the app, which measures it and answers the same);
- any other malformed request (bad request line, invalid header, bad chunked encoding)
  answers ``400`` with the error envelope instead of plain text;

and then the connection closes, since the byte stream can no longer be trusted.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Literal, get_args

from uvicorn.protocols.http.h11_impl import H11Protocol as _H11Protocol

from sora_mock.server.edge import reject

#: Which HTTP/1.1 implementation serves: ``auto`` takes httptools when installed.
HttpName = Literal["auto", "h11", "httptools"]
#: The names, for command-line choices.
HTTP_NAMES: tuple[HttpName, ...] = get_args(HttpName)


def protocol_class(name: HttpName = "auto") -> type[asyncio.Protocol]:
    """The protocol for ``name``: ``auto`` is httptools when installed (``fast`` extra),
    else h11."""
    if name == "h11" or (name == "auto" and importlib.util.find_spec("httptools") is None):
        return H11Protocol
    # Imported only here, since the module needs httptools; its class is a module's, not a
    # local one, so that ``serve --workers N`` can hand it to its worker processes (by pickle).
    from sora_mock.server.httptools_protocol import HttpToolsProtocol

    return HttpToolsProtocol


class H11Protocol(_H11Protocol):
    """uvicorn's h11 protocol answering parse errors with the envelope (431 for big heads)."""

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 refused; uvicorn calls this inside its ``except`` block."""
        error = sys.exception()
        # h11 hints 431 exactly when the buffered head outgrew max_incomplete_event_size.
        status = 431 if getattr(error, "error_status_hint", 400) == 431 else 400
        reject(self, status)


__all__ = ["HTTP_NAMES", "H11Protocol", "HttpName", "protocol_class"]
