"""Report inputs for the HTML tests: a server that answers with a script, a checked run of
it, and a client that ignores Retry-After run through two situations."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx

from sora_mock.checker import Checker, CheckOptions, CheckResult
from sora_mock.conformance import ConformanceReport, check_client
from sora_mock.contract import Request, Response
from sora_mock.server import BackgroundServer
from tests.conformance_clients import IgnoresRetryAfter, runner
from tests.mutants import Mutant

TOKEN = "sk-html-check-token-1"
SCRIPT = "<script>alert('from the server')</script>"


class ScriptInErrors(Mutant):
    """Answers an unknown task with an HTML page: breaks ``content_type`` and
    ``error_envelope``."""

    def mutate_response(self, request: Request, response: Response) -> Response:
        if response.status != 404:
            return super().mutate_response(request, response)
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
        return replace(
            response, headers=(*headers, ("content-type", "text/html")), body=SCRIPT.encode()
        )


def checked(engine: Mutant) -> CheckResult:
    """A small check run against ``engine`` served over loopback."""
    options = CheckOptions(token=TOKEN, max_examples=2, max_tasks=1, poll_interval=0)
    with BackgroundServer(engine) as server, httpx.Client(base_url=server.base_url) as client:
        return Checker(client, options, sleep=lambda _: None, clock=time.monotonic).run()


def ignores_retry_after() -> ConformanceReport:
    """A client that waits a fixed second after a 429, through a success and a 429."""
    return check_client(runner(IgnoresRetryAfter), ["success", "poll-rate-limited-once"])
