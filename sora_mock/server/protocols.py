"""uvicorn's HTTP/1.1 protocols with sora-mock's edge: JSON envelopes, one set of rules for
request heads, a head limit, a head deadline, and answers in order.

Out of the box uvicorn answers a request it cannot parse with a plain-text 400, bounds a
request head only while h11 still buffers it incomplete (``h11_max_incomplete_event_size``;
httptools has no bound at all), and waits for a head for ever. h11 and httptools also
disagree on many edge cases. The subclasses here override what uvicorn offers for this
(``send_400_response``, ``on_response_complete``, the connection callbacks, and httptools'
parser callbacks) and nothing else:

- a head that breaks the rules of :mod:`sora_mock.server.heads` (malformed, ambiguous
  framing such as ``Transfer-Encoding`` with ``Content-Length``, a bad chunked encoding)
  answers ``400`` with the error envelope instead of plain text;
- a request line plus headers over :data:`~sora_mock.server.envelopes.MAX_HEAD_BYTES` (16 KiB)
  that is still arriving answers ``431`` with the envelope (a head that arrives whole
  reaches the app, which measures it and answers the same);
- either refusal comes after the answers to every request before it on the connection
  (pipelining), and no request after it runs; then the connection closes, since the byte
  stream can no longer be trusted;
- a connection that has not sent a whole request head within
  :attr:`~sora_mock.server.edge.HeadDeadline.head_timeout` seconds (5) of opening, or of
  the first byte of its next head, is closed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Any, Literal, get_args

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol as _H11Protocol

from sora_mock.server.edge import HeadDeadline, reject
from sora_mock.server.heads import origin_form, raw_head_refusal, refusal

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


class _Connection(h11.Connection):
    """h11's connection holding requests to :mod:`sora_mock.server.heads`' rules; a refused
    head raises ``RemoteProtocolError``, as h11's own refusals do."""

    def next_event(self) -> Any:
        if self.their_state is h11.IDLE:
            problem = raw_head_refusal(self.trailing_data[0])
            if problem is not None:
                raise h11.RemoteProtocolError(problem, error_status_hint=400)
        event = super().next_event()
        if type(event) is h11.Request:
            problem = refusal(event.method, event.http_version, event.headers)
            target = origin_form(event.method, event.target)
            if problem is not None or target is None:
                raise h11.RemoteProtocolError(problem or "bad request target", 400)
            if target is not event.target:
                event = h11.Request(
                    method=event.method,
                    headers=event.headers,
                    target=target,
                    http_version=event.http_version,
                )
        return event


class H11Protocol(HeadDeadline, _H11Protocol):
    """uvicorn's h11 protocol with the edge of :mod:`sora_mock.server.protocols`.

    h11 reads one request at a time (the next waits in its buffer until the answer is
    complete), so a refusal always comes after the earlier answers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        size = self.config.h11_max_incomplete_event_size
        self.conn = _Connection(h11.SERVER) if size is None else _Connection(h11.SERVER, size)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.watch_head(self.conn.their_state is h11.IDLE and not self.transport.is_closing())

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next head may wait in h11's buffer, incomplete.
        idle = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        self.watch_head(idle and bool(self.conn.trailing_data[0]))

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 refused; uvicorn calls this inside its ``except`` block."""
        error = sys.exception()
        # h11 hints 431 exactly when the buffered head outgrew max_incomplete_event_size.
        status = 431 if getattr(error, "error_status_hint", 400) == 431 else 400
        self.watch_head(False)
        reject(self, status)


__all__ = ["HTTP_NAMES", "H11Protocol", "HttpName", "protocol_class"]
