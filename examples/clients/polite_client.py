"""A well-behaved sora-character client (httpx), and the reference for the conformance docs.

What makes it polite: it sends its bearer token, waits 2 s between status reads, honours
``Retry-After``, retries only what can succeed (429, 5xx, a dropped connection) a bounded
number of times, stops polling at ``completed`` or ``failed``, gives up after ``max_wait``
seconds, reads only the fields the spec requires, and reports a failure with its code.

Run it against a mock::

    SORA_BASE_URL=http://127.0.0.1:8000 SORA_API_KEY=sk-demo python polite_client.py

or check it: ``sora-mock conform --run "python examples/clients/polite_client.py"``.
"""

from __future__ import annotations

import email.utils
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_VIDEO_URL = "https://example.com/video.mp4"


class SoraError(Exception):
    """A call failed; ``http_status`` and ``error_code`` say how, when known."""

    def __init__(
        self, message: str, *, http_status: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code


class TaskFailed(SoraError):  # noqa: N818 - names what happened
    """The task ended ``failed``; ``error_code`` is the task's failure code."""


class GaveUp(SoraError):  # noqa: N818 - names what happened
    """The task did not end within ``max_wait`` seconds."""


@dataclass(frozen=True)
class Character:
    """A generated character."""

    name: str
    picture_url: str


class CharacterClient:
    """Creates a character from a video and waits for it, politely."""

    #: Where tasks are read (a client of another task API changes only this and read_task).
    task_path = "/v1/tasks/{task_id}"
    poll_interval = 2.0
    first_wait = 2.0
    max_attempts = 5
    retry_statuses = frozenset({429, 500, 502, 503, 504})

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        max_wait: float | None = 600.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.api_key = api_key
        self.max_wait = max_wait
        self.http = http or httpx.Client(base_url=base_url, timeout=30)

    def headers(self) -> dict[str, str]:
        """Headers of every call."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def create_character(self, video_url: str, timestamps: str = "0,2") -> Character:
        """Create the task and wait for its character."""
        body = {"model": "sora-character", "video_url": video_url, "timestamps": timestamps}
        task = self.call("POST", "/v1/videos/generations", body)
        return self.wait(task["id"])

    def wait(self, task_id: str) -> Character:
        """Poll the task until it ends or ``max_wait`` runs out."""
        started = time.monotonic()
        time.sleep(self.first_wait)
        while True:
            character = self.read_task(self.call("GET", self.task_path.format(task_id=task_id)))
            if character is not None:
                return character
            waited = time.monotonic() - started
            if self.max_wait is not None and waited + self.poll_interval > self.max_wait:
                raise GaveUp(f"task {task_id} did not end within {self.max_wait:g} s")
            time.sleep(self.poll_interval)

    def read_task(self, task: dict[str, Any]) -> Character | None:
        """The character of a completed task, None while it runs; a failure raises."""
        status = task["status"]
        if status == "completed":
            result = task["result_data"]
            return Character(result["character_name"], result["profile_picture_url"])
        if status == "failed":
            error = task.get("error") or {}
            raise TaskFailed(error.get("message", "the task failed"), error_code=error.get("code"))
        return None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call, retried on 429, 5xx and dropped connections (bounded)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.http.request(method, path, json=body, headers=self.headers())
            except httpx.TransportError:
                if attempt == self.max_attempts:
                    raise
                time.sleep(self.backoff(attempt))
                continue
            if response.status_code == 200:
                data: dict[str, Any] = response.json()
                return data
            if response.status_code not in self.retry_statuses or attempt == self.max_attempts:
                raise error_from(response)
            time.sleep(self.retry_delay(response, attempt))
        raise AssertionError("unreachable")

    def retry_delay(self, response: httpx.Response, attempt: int) -> float:
        """How long to wait before retrying: Retry-After when given, else a backoff."""
        value = response.headers.get("retry-after", "").strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)  # Retry-After may be a date
        except (TypeError, ValueError):
            return self.backoff(attempt)
        return max(0.0, when.timestamp() - time.time())

    def backoff(self, attempt: int) -> float:
        """2, 4, 8, 16 ... seconds, at most 30."""
        return min(30.0, self.poll_interval * 2 ** (attempt - 1))


def error_from(response: httpx.Response) -> SoraError:
    """The error an answer stands for, with the API's code when the body has one."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    return SoraError(
        f"HTTP {response.status_code}: {error.get('message', response.text[:200])}",
        http_status=response.status_code,
        error_code=error.get("code"),
    )


def conformance_client(target: Any) -> dict[str, Any]:
    """The entry point for ``sora_mock.conformance`` (a :class:`Target` in, an outcome out)."""
    client = CharacterClient(target.base_url, target.api_key)
    try:
        character = client.create_character(target.video_url)
    finally:
        client.http.close()
    return {"status": "completed", "character_name": character.name}


def main() -> int:
    """Command-line entry: settings from the environment, a JSON outcome on stdout."""
    client = CharacterClient(
        os.environ["SORA_BASE_URL"],
        os.environ["SORA_API_KEY"],
        max_wait=float(os.environ.get("SORA_MAX_WAIT", "600")),
    )
    try:
        character = client.create_character(os.environ.get("SORA_VIDEO_URL", DEFAULT_VIDEO_URL))
    except TaskFailed as exc:
        outcome: dict[str, Any] = {"status": "failed", "error_code": exc.error_code}
    except GaveUp:
        outcome = {"status": "timeout"}
    except SoraError as exc:
        outcome = {"status": "error", "http_status": exc.http_status, "error_code": exc.error_code}
    except httpx.HTTPError as exc:
        outcome = {"status": "error", "detail": str(exc)}
    else:
        outcome = {"status": "completed", "character_name": character.name}
    print(json.dumps(outcome))
    return 0 if outcome["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
