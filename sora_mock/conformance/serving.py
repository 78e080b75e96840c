"""One real HTTP server with a port per situation, each port its own engine.

A single uvicorn server listens on many loopback sockets; the ASGI dispatcher picks the
engine by the port a request arrived on. Situations run in parallel without sharing
tokens, tasks, rate limits or journals, and a slot can take a fresh engine between runs
(the hypothesis search runs many examples through one slot).
"""

from __future__ import annotations

import socket

from sora_mock.conformance.recording import RecordingEngine
from sora_mock.server import MockApp, Receive, Scope, Send, ServerThread, base_url, bind


class Slot:
    """A port and the engine currently serving it."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.port: int = sock.getsockname()[1]
        self.base_url = base_url(sock)
        self.app: MockApp | None = None
        self.stopped: str | None = None

    def serve(self, engine: RecordingEngine) -> None:
        """Serve ``engine`` from now on."""
        self.stopped = None
        self.app = MockApp(engine, log_requests=False)

    def stop(self, reason: str) -> None:
        """Refuse further requests (the harness stopped the client)."""
        self.stopped = reason


class Dispatcher:
    """ASGI app routing each request to the slot of the port it arrived on."""

    def __init__(self, slots: dict[int, Slot]) -> None:
        self.slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        slot = self.slots.get((scope.get("server") or ("", 0))[1])
        if slot is None or slot.app is None or slot.stopped is not None:
            why = slot.stopped if slot and slot.stopped else "no situation is served here"
            await _plain(send, 503, f"sora-mock conformance: {why}\n")
            return
        await slot.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SlotServer(ServerThread):
    """A uvicorn server in a daemon thread, listening on ``count`` free loopback ports.

    Example::

        with SlotServer(2) as server:
            server.slots[0].serve(engine)
    """

    def __init__(self, count: int, host: str = "127.0.0.1") -> None:
        self.slots = [Slot(bind(host, 0)) for _ in range(count)]
        super().__init__(
            Dispatcher({s.port: s for s in self.slots}),
            [s.socket for s in self.slots],
            "sora-mock conformance server",
        )
