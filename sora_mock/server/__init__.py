"""The HTTP door: the ASGI app, uvicorn and its protocols, callback delivery."""

from sora_mock.server.asgi import MockApp, Receive, Scope, Send
from sora_mock.server.runner import (
    BackgroundServer,
    ServerThread,
    ServeSettings,
    base_url,
    bind,
    run_server,
)

__all__ = [
    "BackgroundServer",
    "MockApp",
    "Receive",
    "Scope",
    "Send",
    "ServeSettings",
    "ServerThread",
    "base_url",
    "bind",
    "run_server",
]
