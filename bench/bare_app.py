"""The throughput baseline: a bare ASGI app that answers every request with one fixed body.

It reads the request body (as the mock does) and answers with a task object of the mock's
own size, served by :func:`sora_mock.server.runner.uvicorn_server` exactly like the mock, so the
only difference between the two servers is the mock's own work.

Run: ``python -m bench.bare_app --port 0`` prints the URL it listens on.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sora_mock.server.asgi import Receive, Scope, Send

#: A completed task as the mock renders it: the same bytes on the wire as a real answer.
TASK_BODY = json.dumps(
    {
        "created": 1767917446,
        "id": "task-unified-1767917446-5lqy8zzv",
        "model": "sora-character",
        "object": "video.generation.task",
        "progress": 100,
        "status": "completed",
        "task_info": {"can_cancel": False, "estimated_time": 150, "video_duration": 8},
        "type": "video",
        "usage": {"billing_rule": "per_call", "credits_reserved": 0.1, "user_group": "vip"},
        "result_data": {
            "character_name": "chr_Axtjik3O",
            "profile_picture_url": "http://127.0.0.1:8000/__mock/files/"
            "task-unified-1767917446-5lqy8zzv/profile.png?expires=1768003741",
        },
        "results": [
            "http://127.0.0.1:8000/__mock/files/"
            "task-unified-1767917446-5lqy8zzv/profile.png?expires=1768003741"
        ],
    },
    separators=(",", ":"),
).encode()

_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(TASK_BODY)).encode()),
]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the request, answer 200 with :data:`TASK_BODY`."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more: Any = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": TASK_BODY})


def main() -> None:
    """Serve :func:`bare_app` like ``sora-mock serve`` serves the mock."""
    from sora_mock.server.protocols import HTTP_NAMES
    from sora_mock.server.runner import base_url, bind, uvicorn_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--http", choices=HTTP_NAMES, default="auto")
    args = parser.parse_args()
    sock = bind(args.host, args.port)
    print(f"bare app: serving on {base_url(sock)}", flush=True)
    uvicorn_server(bare_app, http=args.http).run(sockets=[sock])


if __name__ == "__main__":
    main()
