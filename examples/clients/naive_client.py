"""A naive sora-character client (httpx): the kind of script that works on a good day.

It polls every half second, retries any failed status read at once and forever, never
gives up on a task, and reports a failed task without its failure code. The conformance
harness names each of these faults: see docs/conformance.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import httpx


def create_character(base_url: str, api_key: str, video_url: str) -> str:
    """Create a character and return its name."""
    http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})
    body = {"model": "sora-character", "video_url": video_url}
    response = http.post("/v1/videos/generations", json=body)
    response.raise_for_status()
    task_id = response.json()["id"]
    while True:
        time.sleep(0.5)
        response = http.get(f"/v1/tasks/{task_id}")
        if response.status_code != 200:
            continue  # try again
        task = response.json()
        if task["status"] == "completed":
            return str(task["result_data"]["character_name"])
        if task["status"] == "failed":
            raise RuntimeError("character generation failed")


def conformance_client(target: Any) -> str:
    """The entry point for ``sora_mock.conformance``."""
    return create_character(target.base_url, target.api_key, target.video_url)


if __name__ == "__main__":
    name = create_character(
        os.environ["SORA_BASE_URL"],
        os.environ["SORA_API_KEY"],
        os.environ.get("SORA_VIDEO_URL", "https://example.com/video.mp4"),
    )
    print(json.dumps({"status": "completed", "character_name": name}))
    sys.exit(0)
