"""The example clients, and small clients each broken in one way, for the conformance tests.

Every broken client is the polite example with exactly one fault, so the rule that fault
breaks is the only thing that can change in its report.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sora_mock.conformance import Target

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "clients"


def load_example(name: str) -> ModuleType:
    """Import ``examples/clients/<name>.py`` as a module."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


polite = load_example("polite_client")
naive = load_example("naive_client")
if TYPE_CHECKING:  # the file is loaded by path at run time; mypy reads it as a module
    from examples.clients.polite_client import CharacterClient as Base
else:
    Base = polite.CharacterClient


class NoToken(Base):
    def headers(self) -> dict[str, str]:
        return {}


class FastPolling(Base):
    poll_interval = 0.25
    first_wait = 0.25


class IgnoresRetryAfter(Base):
    def retry_delay(self, response: Any, attempt: int) -> float:
        return 1.0  # a fixed second, whatever Retry-After says


class NeverGivesUp(Base):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = None


class Retries402(Base):
    retry_statuses = Base.retry_statuses | {402}


class FailedIsDone(Base):
    def read_task(self, task: dict[str, Any]) -> Any:
        if task["status"] == "failed":
            return polite.Character("", "")
        return super().read_task(task)


class StrictParser(Base):
    """Refuses a task body with a top-level field it does not know."""

    known = frozenset(
        [
            "created",
            "id",
            "model",
            "object",
            "progress",
            "status",
            "task_info",
            "type",
            "usage",
            "result_data",
            "results",
            "error",
        ]
    )

    def read_task(self, task: dict[str, Any]) -> Any:
        unknown = set(task) - self.known
        if unknown:
            raise ValueError(f"unexpected field(s) in the task: {sorted(unknown)}")
        return super().read_task(task)


def runner(client_class: Any) -> Any:
    """A conformance client function running ``client_class``."""

    def run(target: Any) -> dict[str, Any]:
        client = client_class(target.base_url, target.api_key)
        try:
            character = client.create_character(target.video_url)
        finally:
            client.http.close()
        return {"status": "completed", "character_name": character.name}

    run.__qualname__ = client_class.__name__
    return run


#: Each broken client, the situations that show its fault, and the rules it breaks there.
BROKEN = {
    "no token": (
        NoToken,
        ["success", "fail-service_error", "create-*"],
        {"bearer-token", "outcome"},
    ),
    "fast polling": (
        FastPolling,
        ["success", "flaky-poll", "fail-unknown_error"],
        {"poll-interval"},
    ),
    "ignores Retry-After": (
        IgnoresRetryAfter,
        ["success", "*rate-limited*", "create-rate_limit_exceeded"],
        {"retry-after"},
    ),
    "never gives up": (NeverGivesUp, ["success", "never-finishes"], {"give-up-bound"}),
    "retries a 402": (
        Retries402,
        ["success", "*-insufficient_quota", "*-quota_exceeded"],
        {"no-futile-retry"},
    ),
    "failed is done": (FailedIsDone, ["success", "fail-*"], {"outcome"}),
    "crashes on an unknown field": (
        StrictParser,
        ["success", "optional-fields-absent", "unknown-fields", "unusual-generated"],
        {"outcome"},
    ),
}


#: The key :func:`leaks_its_own_key` sends and prints: no report may show it whole.
OWN_KEY = "sk-real-secret-123456"


def leaks_its_own_key(target: Target) -> None:
    """Ignores the token the harness gave it: sends its own key, prints it, then fails."""
    headers = {"Authorization": f"Bearer {OWN_KEY}"}
    answer = target.http.post("/v1/videos/generations", json=target.body, headers=headers)
    print(f"sent Authorization: Bearer {OWN_KEY}; got {answer.status_code}")
    raise RuntimeError(f"the API refused {OWN_KEY}")
