"""The HTTP door: the ASGI app, uvicorn and its protocols, connection limits, callback
delivery."""

from sora_mock.server.asgi import MockApp, Receive, Scope, Send
from sora_mock.server.limits import ConnectionLimits, default_max_connections
from sora_mock.server.logs import RequestLine, StartupLine, configure_logging, write_startup
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
    "RequestLine",
    "Scope",
    "Send",
    "ServeSettings",
    "ServerThread",
    "StartupLine",
    "base_url",
    "bind",
    "configure_logging",
    "default_max_connections",
    "run_server",
    "write_startup",
]
