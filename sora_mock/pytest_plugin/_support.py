"""What the pytest plugin's fixtures build, kept out of the plugin so loading it stays light.

:func:`resolve_settings` turns the layers of configuration (the session's contract,
``--sora-config``, the ``sora_config`` and ``sora_seed`` fixtures, the ``sora`` marker) into one
:class:`Settings`; :class:`Switch` lets one long-lived server answer from a fresh
:class:`~sora_mock.inprocess.MockAPI` per test; :class:`LiveAPI` stands in for the mock when
``--sora-base-url`` points the fixtures at a live server.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from sora_mock.contract import Contract, Request, Response
from sora_mock.engine import MockConfig
from sora_mock.errors import UsageError
from sora_mock.inprocess import (
    ClockLike,
    ConfigLike,
    MockAPI,
    SpecLike,
    load_config,
    load_contract,
)

if TYPE_CHECKING:
    from sora_mock.server import MockApp


def sora(
    scenario: str | None = None,
    config: ConfigLike = None,
    clock: ClockLike = None,
    seed: int | None = None,
    *,
    spec: SpecLike = None,
) -> None:
    """The ``sora`` marker's signature (used to check a marker's arguments)."""


_MARKER_SIGNATURE = inspect.signature(sora)


def marker_arguments(markers: Sequence[pytest.Mark]) -> dict[str, Any]:
    """The ``sora`` markers' arguments, closest marker last so it wins, checked."""
    merged: dict[str, Any] = {}
    for mark in markers:
        try:
            bound = _MARKER_SIGNATURE.bind(*mark.args, **mark.kwargs)
        except TypeError as exc:
            raise UsageError(
                f"@pytest.mark.sora: {exc}; it takes scenario=, config=, clock=, seed=, spec="
            ) from None
        merged.update(bound.arguments)
    return merged


@dataclass(frozen=True)
class Settings:
    """Everything a per-test mock is built from."""

    contract: Contract
    config: MockConfig
    seed: int | None
    clock: ClockLike
    scenario: str | None

    def build(self, base_url: str) -> MockAPI:
        """A fresh mock with these settings, reached at ``base_url``."""
        return MockAPI(
            spec=self.contract,
            config=self.config,
            seed=self.seed,
            clock=self.clock,
            scenario=self.scenario,
            base_url=base_url,
        )


def resolve_settings(
    *,
    config_file: str | None,
    overrides: Mapping[str, Any] | None,
    seed: int | None,
    marker: Mapping[str, Any],
    contract: Contract | None = None,
) -> Settings:
    """Layer the configuration: file, then ``sora_config``, then the marker.

    A marker ``config`` that is a mapping is merged last; a path or a ``MockConfig``
    replaces the ``--sora-config`` file as the base. A marker ``spec`` replaces the
    session's ``contract`` (default: :func:`~sora_mock.inprocess.load_contract`'s).
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise UsageError(f"the sora_config fixture must return a mapping, not {overrides!r}")
    if marker.get("spec") is not None or contract is None:
        contract = load_contract(marker.get("spec"))
    marked = marker.get("config")
    if marked is None or isinstance(marked, Mapping):
        config = load_config(config_file, overrides, marked, contract=contract)
    else:
        config = load_config(marked, overrides, contract=contract)
    return Settings(
        contract=contract,
        config=config,
        seed=marker.get("seed", seed),
        clock=marker.get("clock"),
        scenario=marker.get("scenario"),
    )


class Switch:
    """The handler of the session's server: answers from the current test's mock.

    Errors raised while answering are kept on that mock (``errors``) and the client gets a
    500, so the fixture can raise them again in the test that caused them.
    """

    def __init__(self) -> None:
        self.api: MockAPI | None = None
        self.app: MockApp | None = None

    def plug(self, api: MockAPI) -> None:
        """Answer from ``api`` (and deliver its tasks' callbacks) from now on."""
        self.api = api
        if self.app is not None:
            self.app.callbacks.engine = api.engine

    def unplug(self) -> None:
        """Answer 503 until the next :meth:`plug`."""
        self.api = None
        if self.app is not None:
            self.app.callbacks.engine = self.app.engine

    def __call__(self, request: Request) -> Response:
        api = self.api
        if api is None:
            body = {
                "error": {
                    "code": "no_test_running",
                    "message": "sora_server answers only while a test that uses it runs",
                    "type": "api_error",
                }
            }
            return Response.json(503, body)
        try:
            return api.handle(request)
        except Exception as exc:  # kept and raised again in the test
            api.errors.append(exc)
            body = {
                "error": {
                    "code": "internal_error",
                    "message": f"sora-mock failed: {type(exc).__name__}: {exc}",
                    "type": "api_error",
                }
            }
            return Response.json(500, body)


class LiveAPI:
    """The fixtures' stand-in when ``--sora-base-url`` points them at a live server.

    Only ``base_url`` is real; anything that needs the mock's engine (clock, tasks,
    calls, scenarios, assertions) skips the test with the reason.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"LiveAPI({self.base_url!r})"

    def _skip(self, what: str) -> NoReturn:
        pytest.skip(
            f"{what} needs the in-process mock; the fixtures point at the live server "
            f"{self.base_url} (--sora-base-url)"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._skip(name)
