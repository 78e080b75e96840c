"""The HTTP door: the ASGI app, uvicorn and its protocols, connection limits, callback
delivery."""

from sora_mock.server.asgi import MockApp, Receive, Scope, Send
from sora_mock.server.limits import ConnectionLimits, default_max_connections
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
    "ConnectionLimits",
    "MockApp",
    "Receive",
    "Scope",
    "Send",
    "ServeSettings",
    "ServerThread",
    "base_url",
    "bind",
    "default_max_connections",
    "run_server",
]
