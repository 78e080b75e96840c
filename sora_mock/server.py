"""Running the ASGI app under uvicorn: in the foreground (the CLI) or in a thread (tests).

The listening socket is bound before uvicorn starts, so a port in use is a clean
:class:`PortInUseError`, port 0 yields a free port that is known at once, and clients can
connect immediately (the kernel queues them until uvicorn accepts).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Iterator
from types import TracebackType

import uvicorn

from sora_mock.asgi import MockApp
from sora_mock.engine import Engine
from sora_mock.errors import PortInUseError, ServerError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"port {port} on {host} is already in use") from None
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def uvicorn_server(app: MockApp, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for ``app`` with sora-mock's settings (its own request log)."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
        h11_max_incomplete_event_size=16 * 1024,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """A real uvicorn server on a free loopback port, in a daemon thread.

    Example::

        with BackgroundServer(Engine(clock=VirtualClock())) as server:
            httpx.get(f"{server.base_url}/__mock/health")
    """

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.app = MockApp(engine, log_requests=False)
        self._socket = bind(host, port)
        self.base_url = base_url(self._socket)
        self._server = uvicorn_server(self.app)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"sora-mock {self.base_url}",
        )

    def start(self) -> BackgroundServer:
        """Start serving; requests may be sent at once."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def running(engine: Engine) -> Iterator[BackgroundServer]:
    """Shorthand for ``with BackgroundServer(engine) as server``."""
    with BackgroundServer(engine) as server:
        yield server
