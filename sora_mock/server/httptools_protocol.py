"""uvicorn's httptools protocol (the ``fast`` extra) with sora-mock's edge
(:mod:`sora_mock.server.protocols`).

:func:`sora_mock.server.protocols.protocol_class` picks it when httptools is installed;
importing this module needs httptools.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from sora_mock.server.edge import HeadDeadline, reject
from sora_mock.server.envelopes import MAX_HEAD_BYTES
from sora_mock.server.heads import origin_form, refusal


class HttpToolsProtocol(HeadDeadline, _HttpToolsProtocol):
    """uvicorn's httptools protocol answering parse errors with the envelope, after the
    answers to the requests before them, and ``431`` when a head still arriving passes
    :data:`~sora_mock.server.envelopes.MAX_HEAD_BYTES`.

    httptools parses every request a read holds, pipelined ones included, and uvicorn
    queues them; a refusal therefore waits in :attr:`refusal` until each request parsed
    before it is answered, and a request whose body turns out malformed never runs.
    httptools buffers a head for as long as it keeps coming, so this class counts the reads
    that end inside one; a head that arrives whole is measured by the app
    (:class:`~sora_mock.server.asgi.MockApp`).
    """

    #: A head has begun and not yet ended.
    in_head = False
    #: The bytes of the current head counted so far (never more than it holds).
    head_bytes = 0
    #: The current read ended a message, so it holds more than the next head: not counted.
    read_ended_message = False
    #: The status to answer once the requests before the malformed one are answered.
    refusal: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As h11 does: ``3 \r\n`` is a chunk of 3 bytes.
        self.parser.set_dangerous_leniencies(lenient_spaces_after_chunk_size=True)
        #: The requests parsed and not yet answered, oldest first.
        self.unanswered: deque[RequestResponseCycle] = deque()

    def data_received(self, data: bytes) -> None:
        if self.refusal is not None:
            return  # nothing after a malformed request is read
        self.read_ended_message = False
        super().data_received(data)
        if self.in_head and not self.read_ended_message and self.refusal is None:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self.refuse(431)
        self.watch_head(self.in_head and self.refusal is None and not self.flow.read_paused)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.in_head = False
        target = origin_form(self.parser.get_method(), self.url)
        problem = refusal(
            self.parser.get_method(), self.parser.get_http_version().encode(), self.headers
        )
        if problem is not None or target is None:
            # httptools raises it again from feed_data, as a parse error.
            raise httptools.HttpParserError(problem or "bad request target")
        self.url = target
        super().on_headers_complete()
        self.unanswered.append(self.cycle)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.read_ended_message = True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        while self.unanswered and self.unanswered[0].response_complete:
            self.unanswered.popleft()
        if self.refusal is not None and not self.unanswered:
            reject(self, self.refusal)
        else:
            self.watch_head(self.in_head and not self.flow.read_paused)

    def send_400_response(self, msg: str) -> None:
        self.refuse(400)

    def refuse(self, status: int) -> None:
        """Answer ``status`` and close, once the requests parsed before are answered."""
        self.refusal = status
        self.watch_head(False)
        self.flow.pause_reading()
        cycle = self.cycle
        if not self.in_head and cycle is not None and cycle.more_body:
            # The newest request's body is malformed: it must not run, or, if it runs
            # already, it cannot be answered now.
            queued = [entry for entry in self.pipeline if entry[0] is cycle]
            if queued:
                self.pipeline.remove(queued[0])
                self.unanswered.remove(cycle)
            elif not cycle.response_complete:
                reject(self, status)
                return
        if all(earlier.response_complete for earlier in self.unanswered):
            reject(self, status)


__all__ = ["HttpToolsProtocol"]
