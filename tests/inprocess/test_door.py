"""What the doors share: every door sends ``Content-Length`` as the server does."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import requests

from sora_mock.contract import Request, Response
from sora_mock.inprocess import route
from sora_mock.inprocess.aiohttp_door import aiohttp_route
from sora_mock.inprocess.requests_door import requests_route

HOST = "http://sora.test"


def empty(request: Request) -> Response:
    """An answer with no body."""
    return Response(200, (("content-type", "text/plain"),), b"")


async def _aiohttp_length() -> str | None:
    async with aiohttp.ClientSession() as session, session.get(f"{HOST}/x") as response:
        return response.headers.get("Content-Length")


def test_an_empty_answer_says_content_length_0_through_every_door() -> None:
    with route(HOST, empty):
        assert httpx.get(f"{HOST}/x").headers.get("content-length") == "0"
    with requests_route(HOST, empty):
        assert requests.get(f"{HOST}/x", timeout=5).headers.get("content-length") == "0"
    with aiohttp_route(HOST, empty):
        assert asyncio.run(_aiohttp_length()) == "0"
