"""Running the ASGI app under uvicorn: in the foreground (the CLI) or in a thread (tests).

The listening socket is bound before uvicorn starts, so a port in use is a clean
:class:`PortInUseError`, port 0 yields a free port that is known at once, and clients can
connect immediately (the kernel queues them until uvicorn accepts).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Self

import uvicorn

from sora_mock.contract import BUNDLED, Contract
from sora_mock.engine import Engine, SqliteTaskStore
from sora_mock.errors import PortInUseError, ServerError
from sora_mock.server.asgi import Handler, MockApp, Receive, Scope, Send
from sora_mock.server.envelopes import MAX_HEAD_BYTES
from sora_mock.server.limits import ConnectionLimits, guarded
from sora_mock.server.logs import LogFormat, configure_logging, quiet_repeats
from sora_mock.server.protocols import HttpName, protocol_class

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SETTINGS_VARIABLE = "SORA_MOCK_SERVE_SETTINGS"
_PARENT_VARIABLE = "SORA_MOCK_SERVE_PARENT"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Name the protocol: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every keep-alive response waits ~40 ms on delayed ACKs.
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


@dataclass(frozen=True)
class ServeSettings:
    """What ``sora-mock serve`` was asked for; passed to worker processes as JSON.

    ``spec`` lists the OpenAPI documents (merged; ``bundled`` names the shipped ones), so
    every worker serves the same contract; ``limits`` bound idle and open connections.
    """

    spec: tuple[str, ...] = (BUNDLED,)
    config: str | None = None
    seed: int | None = None
    speed: float | None = None
    state: str | None = None
    quiet: bool = False
    log_format: LogFormat = "text"
    log_level: str = "info"
    workers: int = 1
    origin: float | None = None
    http: HttpName = "auto"
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)

    def contract(self) -> Contract:
        """The contract of :attr:`spec` (SpecError, with file, line and column, if broken)."""
        return Contract.bundled() if self.spec == (BUNDLED,) else Contract.load(self.spec)

    def engine(self, contract: Contract | None = None) -> Engine:
        """The engine these settings describe (one per process; a state file's store commits
        in groups, for the HTTP server); ``contract`` is the one :attr:`spec` names when the
        caller has loaded it already."""
        from sora_mock.engine import MockConfig, RealClock

        contract = contract or self.contract()
        config = MockConfig.load(self.config, contract=contract)
        store = None
        if self.state:  # the server's answers share commits (sora_mock.server.commits)
            store = SqliteTaskStore(self.state, group=True)
        seed = self.seed
        if seed is not None and self.workers > 1:
            seed = seed * 1_000_003 + os.getpid()  # workers must not draw the same task ids
        clock = RealClock(self.speed or config.speed, origin=self.origin)
        return Engine(contract=contract, config=config, clock=clock, seed=seed, store=store)


def run_server(
    settings: ServeSettings, sock: socket.socket, contract: Contract | None = None
) -> None:
    """Serve on ``sock`` until interrupted: in this process, or in ``workers`` processes
    (each loads the contract of ``settings.spec``; ``contract``, if given, is that contract,
    already loaded, for a single process). Repeated warnings are logged once per interval
    (:func:`~sora_mock.server.logs.quiet_repeats`); workers die with this process."""
    limits = settings.limits
    if settings.workers == 1:
        app = MockApp(settings.engine(contract), log_requests=not settings.quiet)
        _settle_heap()
        server = uvicorn_server(
            app, log_level=_uvicorn_level(settings), http=settings.http, limits=limits
        )
        quiet_repeats()
        server.run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    if settings.state is not None:
        # Made (and migrated) here, once, so the workers starting together find it ready.
        SqliteTaskStore(settings.state).close()
    os.environ[_SETTINGS_VARIABLE] = json.dumps(asdict(settings))
    os.environ[_PARENT_VARIABLE] = str(os.getpid())
    server = uvicorn_server(
        f"{__name__}:app_from_environment",
        log_level=_uvicorn_level(settings),
        workers=settings.workers,
        http=settings.http,
        limits=limits,
    )
    quiet_repeats()
    Multiprocess(server.config, sockets=[sock]).run()


def app_from_environment() -> MockApp:
    """The ASGI app of one worker process, built from the parent's settings; the worker
    ends when the parent does, so no orphan keeps the port."""
    die_with_parent(int(os.environ[_PARENT_VARIABLE]))
    quiet_repeats()
    fields = json.loads(os.environ[_SETTINGS_VARIABLE])
    settings = ServeSettings(
        **{
            **fields,
            "spec": tuple(fields["spec"]),
            "limits": ConnectionLimits(**fields["limits"]),
        }
    )
    configure_logging(settings.log_format, settings.log_level)
    app = MockApp(settings.engine(), log_requests=not settings.quiet)
    _settle_heap()
    return app


#: prctl(2)'s option that sends the calling process a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process (SIGTERM, a graceful stop) when process ``parent`` dies.

    On Linux the kernel sends the signal (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon
    thread checks once a second. Either way, a parent already gone ends this process now.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _uvicorn_level(settings: ServeSettings) -> str:
    """uvicorn's own log level: its warnings show unless only errors are asked for."""
    return "error" if settings.log_level == "error" else "warning"


def _settle_heap() -> None:
    """Exempt what start-up built (modules, the compiled spec, scenarios) from garbage
    collection: a server that holds many tasks would otherwise walk it all again at every
    full collection."""
    gc.collect()
    gc.freeze()


def uvicorn_server(
    app: ASGIApp | str,
    *,
    log_level: str = "warning",
    workers: int | None = None,
    http: HttpName = "auto",
    limits: ConnectionLimits | None = None,
) -> uvicorn.Server:
    """A uvicorn server for ``app`` (or an app factory's import path) with sora-mock's settings.

    The mock keeps its own request log; the HTTP protocol (``http``) is by default httptools
    when the ``fast`` extra is installed, else h11, either way with the 16 KiB head limit
    (431) and JSON envelopes for malformed requests (:mod:`sora_mock.server.protocols`).
    ``limits`` (by default :class:`~sora_mock.server.limits.ConnectionLimits`) closes idle
    keep-alive connections and answers connections over the cap with 503.
    """
    limits = limits or ConnectionLimits()
    config = uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        http=guarded(protocol_class(http), limits),
        timeout_keep_alive=limits.keep_alive,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


class ServerThread:
    """A uvicorn server for ``app`` on already bound sockets, in a daemon thread.

    The base of :class:`BackgroundServer` and of the conformance harness's many-port server.
    """

    def __init__(
        self,
        app: ASGIApp,
        sockets: list[socket.socket],
        name: str,
        *,
        http: HttpName = "auto",
        limits: ConnectionLimits | None = None,
    ) -> None:
        self._sockets = sockets
        self._server = uvicorn_server(app, http=http, limits=limits)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True, name=name
        )

    def start(self) -> Self:
        """Start serving; requests may be sent at once (the kernel queues them)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread to end and close the sockets."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BackgroundServer(ServerThread):
    """A real uvicorn server on a free loopback port, in a daemon thread.

    ``handler`` replaces ``engine.handle`` as what answers each request (see
    :class:`~sora_mock.server.asgi.MockApp`); ``http`` picks the HTTP protocol
    (:func:`~sora_mock.server.protocols.protocol_class`); ``limits`` bound idle and open
    connections (:class:`~sora_mock.server.limits.ConnectionLimits`).

    Example::

        with BackgroundServer(Engine(clock=VirtualClock())) as server:
            httpx.get(f"{server.base_url}/__mock/health")
    """

    def __init__(
        self,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        handler: Handler | None = None,
        log_requests: bool = False,
        http: HttpName = "auto",
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.engine = engine
        self.app = MockApp(engine, log_requests=log_requests, handler=handler)
        sock = bind(host, port)
        self.base_url = base_url(sock)
        name = f"sora-mock {self.base_url}"
        super().__init__(self.app, [sock], name, http=http, limits=limits)
