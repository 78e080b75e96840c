"""uvicorn's httptools protocol (the ``fast`` extra) with sora-mock's edge.

:func:`sora_mock.server.protocols.protocol_class` picks it when httptools is installed;
importing this module needs httptools.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol

from sora_mock.server.asgi import MAX_HEAD_BYTES
from sora_mock.server.edge import reject


class HttpToolsProtocol(_HttpToolsProtocol):
    """uvicorn's httptools protocol answering parse errors with the envelope, and ``431``
    when a head still arriving passes :data:`~sora_mock.server.asgi.MAX_HEAD_BYTES`.

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

    def data_received(self, data: bytes) -> None:
        self.read_ended_message = False
        super().data_received(data)
        if self.in_head and not self.read_ended_message:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                reject(self, 431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.read_ended_message = True

    def send_400_response(self, msg: str) -> None:
        reject(self, 400)


__all__ = ["HttpToolsProtocol"]
