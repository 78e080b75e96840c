"""Callback targets: refused at create when the URL names a private address in any
spelling, refused at delivery when the name resolves to one, and the connection goes to the
address that was checked. Loopback only: names are answered by a fake resolver."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sora_mock.engine.clock import VirtualClock
from sora_mock.engine.config import MockConfig
from sora_mock.engine.core import Engine
from sora_mock.engine.journal import JournalEntry
from sora_mock.engine.outbox import Delivery
from sora_mock.server.callbacks import CallbackDispatcher
from tests.contract.test_request_rules import HIDDEN_ADDRESSES
from tests.helpers import CREATE_PATH, VALID_BODY, auth, create, error_of

HOOK = "https://hooks.example.com/hook"


class _Receiver:
    """A loopback HTTP server that counts connections and records each POST's Host."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hosts: list[str] = []
        self.connections = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                receiver.hosts.append(self.headers["host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                receiver.connections += 1
                return True

        self.server = Server((host, 0), Handler)
        self.port: int = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    running = _Receiver()
    yield running
    running.close()


class _Resolver:
    """Answers names from a script, one answer per lookup (the last one repeats)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def _engine(clock: VirtualClock, **callbacks: Any) -> Engine:
    config = MockConfig.defaults().with_overrides({"callbacks": callbacks})
    return Engine(config=config, clock=clock, seed=3)


def _attempts(engine: Engine) -> list[JournalEntry]:
    return [entry for entry in engine.journal if entry.operation == "callback"]


def _with_dispatcher(
    engine: Engine, resolver: _Resolver, work: Callable[[CallbackDispatcher], Awaitable[None]]
) -> None:
    async def run() -> None:
        dispatcher = CallbackDispatcher(engine, interval=0.01, resolver=resolver)
        await dispatcher.start()
        try:
            await work(dispatcher)
        finally:
            await dispatcher.stop()

    asyncio.run(run())


def _deliver_due(engine: Engine, resolver: _Resolver, count: int = 1) -> list[JournalEntry]:
    """Let a running dispatcher empty the outbox until ``count`` attempts are recorded."""

    async def wait(dispatcher: CallbackDispatcher) -> None:
        deadline = time.monotonic() + 10
        while len(_attempts(engine)) < count:
            assert time.monotonic() < deadline, "no callback attempt recorded"
            await asyncio.sleep(0.01)

    _with_dispatcher(engine, resolver, wait)
    return _attempts(engine)


def _deliver(engine: Engine, resolver: _Resolver, url: str) -> JournalEntry:
    """One attempt of a delivery to ``url`` (as if a task had stored it), recorded."""
    delivery = Delivery("task-1", url, b"{}", attempt=1, due_at=0.0, sent_at=0.0)

    async def once(dispatcher: CallbackDispatcher) -> None:
        await dispatcher.deliver(delivery)

    _with_dispatcher(engine, resolver, once)
    (attempt,) = _attempts(engine)
    return attempt


def _create_with_callback(engine: Engine, clock: VirtualClock, url: str) -> None:
    created = create(engine, {**VALID_BODY, "callback_url": url})
    assert created.status == 200, created.json_body()
    clock.advance(1000)


@pytest.mark.parametrize("url", HIDDEN_ADDRESSES)
def test_every_spelling_of_a_private_address_is_refused_at_create(
    client: httpx.Client, url: str
) -> None:
    response = client.post(CREATE_PATH, json={**VALID_BODY, "callback_url": url}, headers=auth())
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "callback_url"


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "127.0.0.1", "::1"])
def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    clock: VirtualClock, address: str
) -> None:
    engine = _engine(clock)
    _create_with_callback(engine, clock, HOOK)
    resolver = _Resolver([address])
    (attempt,) = _deliver_due(engine, resolver)
    assert resolver.asked == [("hooks.example.com", 443)]
    assert attempt.status == 0
    assert (
        attempt.notes["refused"] == "callback_url must not point to a private or loopback address"
    )
    assert not attempt.notes["delivered"]
    assert not attempt.notes["retry_planned"]
    clock.advance(1000)
    assert engine.callbacks_due() == [], "a refused target is not tried again"


def test_every_address_a_name_resolves_to_is_checked(clock: VirtualClock) -> None:
    engine = _engine(clock)
    _create_with_callback(engine, clock, HOOK)
    (attempt,) = _deliver_due(engine, _Resolver(["93.184.216.34", "10.0.0.1"]))
    assert "private" in attempt.notes["refused"]


def test_a_loopback_answer_is_refused_without_connecting(
    clock: VirtualClock, receiver: _Receiver
) -> None:
    engine = _engine(clock, allow_ports=[receiver.port])
    attempt = _deliver(
        engine, _Resolver(["127.0.0.1"]), f"https://hooks.example.com:{receiver.port}/hook"
    )
    assert "private" in attempt.notes["refused"]
    assert receiver.connections == 0


@pytest.mark.parametrize(
    "host",
    ["2130706433", "127.1", "0x7f000001", "0", "0177.0.0.1", "127.0.0.1.", "[::ffff:7f00:1]"],
)
def test_an_address_in_any_spelling_is_refused_at_delivery_too(
    clock: VirtualClock, receiver: _Receiver, host: str
) -> None:
    engine = _engine(clock, allow_ports=[receiver.port])
    resolver = _Resolver(["93.184.216.34"])
    attempt = _deliver(engine, resolver, f"https://{host}:{receiver.port}/hook")
    assert receiver.connections == 0
    assert "private" in attempt.notes["refused"]
    assert resolver.asked == [], "an address is not looked up"


def test_a_port_not_allowed_is_refused_at_create_and_at_delivery(clock: VirtualClock) -> None:
    url = "https://hooks.example.com:8443/hook"
    refused = create(_engine(clock), {**VALID_BODY, "callback_url": url})
    assert refused.status == 400
    assert error_of(refused)["param"] == "callback_url"
    assert "port 443" in error_of(refused)["message"]
    assert (
        create(_engine(clock, allow_ports=[8443]), {**VALID_BODY, "callback_url": url}).status
        == 200
    )
    resolver = _Resolver(["93.184.216.34"])
    attempt = _deliver(_engine(clock), resolver, url)
    assert "port 443" in attempt.notes["refused"]
    assert resolver.asked == []


def _second_loopback_receiver() -> _Receiver:
    try:
        return _Receiver("127.0.0.2")
    except OSError:  # pragma: no cover - only Linux routes all of 127.0.0.0/8 to loopback
        pytest.skip("127.0.0.2 is not a loopback address here")


def test_the_connection_goes_to_the_address_checked(clock: VirtualClock) -> None:
    # The name is answered once per attempt; a second lookup (DNS rebinding) would say
    # 127.0.0.3, and the system's resolver 127.0.0.1 or nothing: neither has the receiver.
    target = _second_loopback_receiver()
    try:
        engine = _engine(clock, allow_loopback=True)
        url = f"http://hooks.localhost:{target.port}/hook"
        _create_with_callback(engine, clock, url)
        resolver = _Resolver(["127.0.0.2"], ["127.0.0.3"])
        (attempt,) = _deliver_due(engine, resolver)
    finally:
        target.close()
    assert (attempt.status, attempt.notes["delivered"]) == (204, True), attempt.notes
    assert resolver.asked == [("hooks.localhost", target.port)]
    assert target.hosts == [f"hooks.localhost:{target.port}"]


def test_a_loopback_name_must_resolve_to_loopback(clock: VirtualClock) -> None:
    engine = _engine(clock, allow_loopback=True)
    _create_with_callback(engine, clock, "http://hooks.localhost:8080/hook")
    (attempt,) = _deliver_due(engine, _Resolver(["93.184.216.34"]))
    assert "loopback" in attempt.notes["refused"]


def test_a_name_that_does_not_resolve_is_retried(clock: VirtualClock) -> None:
    engine = _engine(clock)
    _create_with_callback(engine, clock, HOOK)
    (attempt,) = _deliver_due(engine, _Resolver([]))
    assert attempt.notes["retry_planned"]
    assert "refused" not in attempt.notes


def test_loopback_delivery_works_when_allowed(clock: VirtualClock, receiver: _Receiver) -> None:
    engine = _engine(clock, allow_loopback=True)
    _create_with_callback(engine, clock, f"http://127.0.0.1:{receiver.port}/hook")
    resolver = _Resolver(["10.0.0.1"])
    (attempt,) = _deliver_due(engine, resolver)
    assert attempt.status == 204
    assert resolver.asked == []
    assert receiver.hosts == [f"127.0.0.1:{receiver.port}"]
