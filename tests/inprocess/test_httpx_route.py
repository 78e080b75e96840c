"""Routing httpx in-process by patching its transports (``mock(via="transport")``, conformance)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from sora_mock.contract import Request, Response
from sora_mock.contract.validation import as_request, as_response
from sora_mock.engine import Engine, VirtualClock
from sora_mock.inprocess import from_httpx, route, to_request
from sora_mock.server import BackgroundServer

HOST = "http://sora.test"


def handler(tag: str) -> tuple[list[Request], Callable[[Request], Response]]:
    """A handler answering ``<tag> <path>``, and the list of requests it saw."""
    seen: list[Request] = []

    def handle(request: Request) -> Response:
        seen.append(request)
        return Response(200, (("content-type", "text/plain"),), f"{tag} {request.path}".encode())

    return seen, handle


@pytest.fixture
def loopback_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(Engine(clock=VirtualClock(), seed=1)) as server:
        yield server


def test_a_client_built_before_the_block_is_routed_only_inside(
    loopback_server: BackgroundServer,
) -> None:
    real_send = httpx.HTTPTransport.handle_request
    seen, handle = handler("routed")
    with httpx.Client(base_url=loopback_server.base_url) as client:
        with route(loopback_server.base_url, handle):
            inside = client.get("/__mock/health")
        outside = client.get("/__mock/health")
    assert inside.text == "routed /__mock/health"
    assert outside.json()["status"] == "ok"  # the real server answered
    assert [r.path for r in seen] == ["/__mock/health"]
    assert httpx.HTTPTransport.handle_request is real_send


def test_async_clients_and_other_threads_are_routed() -> None:
    seen, handle = handler("routed")

    async def fetch() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.post(f"{HOST}/a", content=b"body")).text

    answers: list[str] = []
    with route(HOST, handle):
        thread = threading.Thread(target=lambda: answers.append(httpx.get(f"{HOST}/b").text))
        thread.start()
        thread.join()
        answers.append(asyncio.run(fetch()))
    assert answers == ["routed /b", "routed /a"]
    assert [(r.method, r.body) for r in seen] == [("GET", b""), ("POST", b"body")]


def test_overlapping_routes_newest_first_and_any_exit_order(
    loopback_server: BackgroundServer,
) -> None:
    real = (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request)
    base = loopback_server.base_url
    _, first = handler("first")
    _, second = handler("second")
    outer, inner = route(base, first), route(f"{base}/api", second)
    outer.__enter__()
    inner.__enter__()
    assert httpx.get(f"{base}/api/x").text == "second /x"  # the prefix is stripped
    assert httpx.get(f"{base}/apix").text == "first /apix"  # prefixes end on a segment
    outer.__exit__(None, None, None)  # the first one out is not the last one in
    assert httpx.get(f"{base}/api/y").text == "second /y"
    assert httpx.get(f"{base}/__mock/health").json()["status"] == "ok"  # the real server
    inner.__exit__(None, None, None)
    now = (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request)
    assert now == real


def test_an_exclusive_route_refuses_the_rest_and_respx_still_answers_its_own() -> None:
    _, handle = handler("routed")
    with (
        route(HOST, handle, exclusive=True),
        pytest.raises(respx.models.AllMockedAssertionError, match="not mocked"),
    ):
        httpx.get("http://elsewhere.test/")
    with respx.mock(assert_all_called=False) as theirs, route(HOST, handle):
        theirs.get("https://storage.test/upload").respond(204)
        assert httpx.get("https://storage.test/upload").status_code == 204
        assert httpx.get(f"{HOST}/z").text == "routed /z"


def test_a_base_exception_from_the_handler_reaches_the_client() -> None:
    class Stop(BaseException):
        pass

    def handle(request: Request) -> Response:
        raise Stop

    with route(HOST, handle), pytest.raises(Stop):
        httpx.get(f"{HOST}/")


def test_the_validators_reading_of_httpx_objects_agrees_with_the_doors() -> None:
    # contract.validation reads httpx objects by their attributes (it may not import httpx);
    # the in-process doors convert them here. Both must see the same message.
    request = httpx.Request(
        "POST",
        "https://api.example.com:8443/v1/a%20b/%C3%A9?x=1&x=2&y=%20",
        headers=[("X-Twice", "1"), ("x-twice", "2"), ("Content-Type", "application/json")],
        content=b'{"k": 1}',
    )
    assert as_request(request) == to_request(request)
    response = httpx.Response(201, headers=[("Set-Cookie", "a"), ("Set-Cookie", "b")], content=b"x")
    assert as_response(response) == from_httpx(response)
