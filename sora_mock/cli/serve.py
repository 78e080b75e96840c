"""``sora-mock serve``: the mock over real HTTP, under uvicorn."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from typing import TYPE_CHECKING, Any

from sora_mock.cli.options import add_spec_option, positive_number, spec_paths, whole
from sora_mock.errors import UsageError

if TYPE_CHECKING:
    from sora_mock.contract import Contract
    from sora_mock.engine import MockConfig
    from sora_mock.server import ServeSettings, StartupLine

# server.logs.LOG_FORMATS and LOG_LEVELS, written out: importing them would load uvicorn.
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


def register(subparsers: Any) -> None:
    """Add ``serve`` to the command line."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the mock API over HTTP",
        description="Serve the mock of the API the spec describes over HTTP until interrupted.",
        examples=(
            "sora-mock serve --port 9000",
            "sora-mock serve --config my-scenarios.yaml --seed 3 --speed 100",
            "sora-mock serve --port 0 --log-format json --log-level warning",
        ),
    )
    add_spec_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8000, help="port to bind; 0 picks a free one (default 8000)"
    )
    parser.add_argument("--config", metavar="FILE", help="YAML settings merged over the defaults")
    parser.add_argument(
        "--seed", type=int, help="seed for task ids and names, for deterministic runs"
    )
    parser.add_argument(
        "--speed",
        type=positive_number,
        help="mock seconds per real second (default from config: 50)",
    )
    parser.add_argument("--quiet", action="store_true", help="no log line per request")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text lines, or one JSON object per line (time, level, method, path, status, "
        "latency_ms, ...); default text",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="least level logged; info shows one line per request (default info)",
    )
    parser.add_argument(
        "--http",
        # protocols.HTTP_NAMES, written out: importing it would load uvicorn for every command
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="HTTP/1.1 implementation: httptools (the fast extra) or h11; "
        "auto takes httptools when installed (default)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep tasks in this SQLite file: they survive restarts and are shared by workers",
    )
    parser.add_argument(
        "--workers",
        type=whole(1, 64),
        default=1,
        help="worker processes (more than 1 needs --state)",
    )
    parser.add_argument(
        "--keep-alive",
        metavar="SECONDS",
        type=whole(1, 3600),
        default=5,
        help="close a keep-alive connection idle this long between requests (default 5)",
    )
    parser.add_argument(
        "--head-timeout",
        metavar="SECONDS",
        type=positive_number,
        default=5.0,
        help="close a connection whose request head is not whole this long after it opens "
        "or the head begins (default 5)",
    )
    parser.add_argument(
        "--max-connections",
        metavar="N",
        type=whole(1),
        help="connections served at once (per worker); more are answered 503 and closed "
        "(default: the open-file limit less a reserve)",
    )
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    """Check the spec and settings, bind the port, print what it serves where, serve until
    stopped."""
    from sora_mock.engine import MockConfig, admin_exposure_warning
    from sora_mock.server import (
        ConnectionLimits,
        ServeSettings,
        base_url,
        bind,
        configure_logging,
        run_server,
        write_startup,
    )

    if args.workers > 1 and not args.state:
        raise UsageError("--workers above 1 needs --state FILE, so that workers share tasks")
    if args.http == "httptools" and importlib.util.find_spec("httptools") is None:
        raise UsageError("--http httptools needs the fast extra: pip install 'sora-mock[fast]'")
    # Refuse a broken file before binding anything.
    settings = ServeSettings(spec=spec_paths(args))
    contract = settings.contract()
    config = MockConfig.load(args.config, contract=contract)
    speed = args.speed if args.speed is not None else config.speed
    settings = ServeSettings(
        spec=settings.spec,
        config=args.config,
        seed=args.seed,
        speed=speed,
        state=args.state,
        quiet=args.quiet,
        log_format=args.log_format,
        log_level=args.log_level,
        workers=args.workers,
        origin=time.time(),
        http=args.http,
        limits=ConnectionLimits(
            keep_alive=args.keep_alive,
            head_timeout=args.head_timeout,
            max_connections=args.max_connections,
        ),
    )
    warning = admin_exposure_warning(args.host, config)
    if warning is not None:
        print(f"sora-mock: {warning}", file=sys.stderr, flush=True)
    sock = bind(args.host, args.port)
    configure_logging(args.log_format, args.log_level)
    write_startup(startup_lines(settings, base_url(sock), contract, config), args.log_format)
    run_server(settings, sock, contract if args.workers == 1 else None)
    return 0


def startup_lines(
    settings: ServeSettings, url: str, contract: Contract, config: MockConfig
) -> list[StartupLine]:
    """Where the server listens, then which spec, settings and scenario files it loaded."""
    from sora_mock.contract import builtin_scenarios_path, defaults_path
    from sora_mock.engine import ScenarioBook
    from sora_mock.server import StartupLine

    speed = settings.speed or config.speed
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    state = f", state in {settings.state}" if settings.state else ""
    specs = list(contract.sources)
    configs = [str(defaults_path()), *([settings.config] if settings.config else [])]
    builtin = len(ScenarioBook.standard(contract).builtin)
    names = [s.name for s in config.scenarios]
    loaded = f", {len(names)} from {settings.config} ({', '.join(names)})" if names else ""
    return [
        StartupLine(
            f"serving {served(contract)} on {url} "
            f"(clock speed {speed:g}x{workers}{state}, Ctrl+C to stop)",
            {"url": url, "models": list(contract.tasks.models), "speed": speed},
        ),
        StartupLine(f"spec: {', '.join(specs)}", {"spec": specs}),
        StartupLine(f"settings: {', then '.join(configs)}", {"config": configs}),
        StartupLine(
            f"scenarios: {builtin} built-in (the spec's errors and "
            f"{builtin_scenarios_path()}){loaded}",
            {"scenarios": {"builtin": builtin, "file": settings.config, "names": names}},
        ),
    ]


def served(contract: Contract) -> str:
    """``2 models (a, b)``: what the start-up line says the mock serves."""
    names = list(contract.tasks.models)
    return f"{len(names)} model{'s' if len(names) != 1 else ''} ({', '.join(names)})"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {port}")
    return port


__all__ = ["register", "serve", "served", "startup_lines"]
