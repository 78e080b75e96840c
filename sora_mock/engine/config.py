"""The mock's behaviour settings: loaded from YAML, checked against a JSON Schema, frozen.

The defaults live in ``spec/mock-defaults.yaml``; a user file is merged over them key by
key (lists and scalars replace). Named token profiles inherit from ``tokens.default``.

Example::

    config = MockConfig.load("my-mock.yaml")
    config.token_profile("sk-demo-no-credits").credits  # 0
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sora_mock.contract import Contract, YamlDocument, defaults_path
from sora_mock.engine.config_schema import check_document, check_mapping
from sora_mock.engine.scenarios.book import Scenario, result_values, scenarios_from_document
from sora_mock.errors import ConfigError

_T = TypeVar("_T")


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` calls per token in any window of ``window_seconds`` (mock time)."""

    requests: int
    window_seconds: float


@dataclass(frozen=True)
class TokenProfile:
    """What one bearer token may do; ``models`` None means every model of the contract."""

    credits: float | None = None
    models: tuple[str, ...] | None = None
    rate_limit: RateLimit | None = None
    fault: str | None = None

    def may_use(self, model: str) -> bool:
        """True when the token may create tasks of ``model``."""
        return self.models is None or model in self.models


@dataclass(frozen=True)
class TaskSettings:
    """How long finished tasks are kept, and values every model's tasks report instead of
    the contract's (by the name of the value in the spec's ``x-sora-mock`` values)."""

    retention: float = 86400.0
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MockConfig:
    """Every behaviour setting of the mock, frozen after load."""

    speed: float = 50.0
    task: TaskSettings = field(default_factory=TaskSettings)
    lifecycle: Mapping[str, Any] = field(default_factory=dict)
    accept_unknown_tokens: bool = True
    default_token: TokenProfile = field(default_factory=TokenProfile)
    tokens: Mapping[str, TokenProfile] = field(default_factory=dict)
    allow_loopback_callbacks: bool = False
    allow_callback_ports: tuple[int, ...] = ()
    max_body_bytes: int = 1_048_576
    journal_size: int = 10_000
    max_tasks: int = 1_000_000
    admin_token: str | None = None
    scenarios: tuple[Scenario, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | Path | None = None, contract: Contract | None = None) -> MockConfig:
        """The defaults, with the file at ``path`` (if any) merged over them; its values and
        scenarios are checked against ``contract`` (default: the bundled one)."""
        data = check_document(YamlDocument.from_path(defaults_path(), ConfigError))
        if path is None:
            return cls.from_dict(data, checked=True)
        document = YamlDocument.from_path(path, ConfigError)
        data = deep_merge(data, check_document(document))
        task = document.data.get("task") or {}
        found = result_values(contract).first_problem(task, skip=frozenset({"retention"}))
        if found is not None:
            raise document.error(found.message, ["task", found.name], ConfigError)
        scenarios = scenarios_from_document(document, contract=contract)
        return cls.from_dict(data, checked=True, scenarios=scenarios)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        checked: bool = False,
        scenarios: tuple[Scenario, ...] | None = None,
        contract: Contract | None = None,
    ) -> MockConfig:
        """Build from a complete settings mapping (merge user data over the defaults first);
        its scenarios are checked against ``contract`` (default: the bundled one)."""
        if not checked:
            check_mapping(data, "<config>")
        if scenarios is None:
            document = YamlDocument(data, "<config>", None)
            scenarios = scenarios_from_document(document, contract=contract)
        task = dict(data.get("task", {}))
        retention = float(task.pop("retention", 86400.0))
        tokens = data.get("tokens", {}) or {}
        default_token = _token(tokens.get("default") or {}, TokenProfile())
        return cls(
            speed=float(data.get("clock", {}).get("speed", 50.0)),
            task=TaskSettings(retention=retention, values=task),
            lifecycle=data.get("lifecycle", {}),
            accept_unknown_tokens=bool(data.get("auth", {}).get("accept_unknown_tokens", True)),
            default_token=default_token,
            tokens={
                name: _token(value or {}, default_token)
                for name, value in tokens.items()
                if name != "default"
            },
            allow_loopback_callbacks=bool(data.get("callbacks", {}).get("allow_loopback", False)),
            allow_callback_ports=tuple(data.get("callbacks", {}).get("allow_ports", ())),
            max_body_bytes=int(data.get("limits", {}).get("max_body_bytes", 1_048_576)),
            journal_size=int(data.get("limits", {}).get("journal_size", 10_000)),
            max_tasks=int(data.get("limits", {}).get("max_tasks", 1_000_000)),
            admin_token=data.get("admin", {}).get("token"),
            scenarios=scenarios,
            raw=data,
        )

    @classmethod
    def defaults(cls) -> MockConfig:
        """The shipped defaults, unchanged (loaded once per process; frozen, so shared)."""
        return _defaults()

    def with_overrides(
        self, overrides: Mapping[str, Any], contract: Contract | None = None
    ) -> MockConfig:
        """A new config with ``overrides`` (same format as a file) merged over this one; its
        scenarios are checked against ``contract`` (default: the bundled one)."""
        merged = deep_merge(self.raw, overrides)
        check_mapping(merged, "<overrides>")
        return MockConfig.from_dict(merged, checked=True, contract=contract)

    def token_profile(self, token: str) -> TokenProfile | None:
        """The profile of ``token``; ``None`` when unknown tokens are refused and it is unknown."""
        profile = self.tokens.get(token)
        if profile is not None:
            return profile
        return self.default_token if self.accept_unknown_tokens else None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """``override`` merged into ``base``: mappings merge recursively, everything else replaces."""
    merged = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _token(data: Mapping[str, Any], base: TokenProfile) -> TokenProfile:
    values = dict(data)
    if values.get("models") is not None:
        values["models"] = tuple(values["models"])
    if values.get("rate_limit") is not None:
        values["rate_limit"] = RateLimit(**values["rate_limit"])
    return _replace(base, values)


def _replace(base: _T, values: Mapping[str, Any]) -> _T:
    return dataclasses.replace(base, **values)  # type: ignore[type-var]


@functools.cache
def _defaults() -> MockConfig:
    return MockConfig.load(None)
