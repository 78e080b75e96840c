"""uvicorn's httptools protocol (the ``fast`` extra) with sora-mock's edge.

See :mod:`sora_mock.server.protocols`, which picks it when httptools is installed; importing this
module needs httptools.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol

from sora_mock.server.asgi import HEAD_WITHIN_LIMIT, MAX_HEAD_BYTES
from sora_mock.server.edge import reject


class HttpToolsProtocol(_HttpToolsProtocol):
    """uvicorn's httptools protocol with a head limit and envelope parse errors."""

    _reading_head = True
    _head_bytes = 0
    _boundary = False
    # The size of the last read in which a message ended (a head begun in it has at most
    # that much of itself there) and of the current read. With the head bytes counted in
    # between, they bound the head when it completes.
    _carried = 0
    _read_size = 0

    def data_received(self, data: bytes) -> None:
        self._boundary = False
        self._read_size = size = len(data)
        super().data_received(data)
        # Count what arrived while a head stays incomplete: this bounds the memory
        # httptools spends on a head that never ends. A read in which a head ended or
        # a message completed holds other bytes (a body) too, so it does not count.
        if self._boundary or not self._reading_head or self.transport.is_closing():
            if self._boundary:
                self._head_bytes = 0
                self._carried = size
            return
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            reject(self, 431)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._boundary = True
        if self._carried + self._head_bytes + self._read_size <= MAX_HEAD_BYTES:
            self.scope[HEAD_WITHIN_LIMIT] = True  # type: ignore[literal-required]
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._boundary = True

    def send_400_response(self, msg: str) -> None:
        reject(self, 400)


__all__ = ["HttpToolsProtocol"]
