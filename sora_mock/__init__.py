"""sora-mock: a stateful mock and contract-testing toolkit for Evolink's video task API.

Public names are imported lazily, so ``import sora_mock`` (and the pytest plugin that
lives in it) costs almost nothing until a name is used.

Example::

    import sora_mock

    engine = sora_mock.Engine(clock=sora_mock.VirtualClock(), seed=1)

    with sora_mock.mock(seed=1) as api:   # httpx requests to the API answered in-process
        ...
        api.run_until_idle()
"""

from __future__ import annotations

from sora_mock._lazy import lazy_names as _lazy_names

# Not `from typing import TYPE_CHECKING`: importing typing would be most of what
# `import sora_mock` costs. Type checkers treat any constant of this name alike.
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "BackgroundServer": "sora_mock.server",
    "CheckOptions": "sora_mock.checker",
    "CheckResult": "sora_mock.checker",
    "Checker": "sora_mock.checker",
    "Clock": "sora_mock.engine",
    "ConfigError": "sora_mock.errors",
    "ConformanceFailure": "sora_mock.errors",
    "ConformanceReport": "sora_mock.conformance",
    "Contract": "sora_mock.contract",
    "ContractViolation": "sora_mock.errors",
    "Engine": "sora_mock.engine",
    "HttpxMock": "sora_mock.inprocess",
    "MockAPI": "sora_mock.inprocess",
    "MockConfig": "sora_mock.engine",
    "PortInUseError": "sora_mock.errors",
    "RealClock": "sora_mock.engine",
    "Request": "sora_mock.contract",
    "Response": "sora_mock.contract",
    "ServerError": "sora_mock.errors",
    "SoraMockError": "sora_mock.errors",
    "SourceError": "sora_mock.errors",
    "SpecError": "sora_mock.errors",
    "UnreachableError": "sora_mock.errors",
    "UsageError": "sora_mock.errors",
    "VirtualClock": "sora_mock.engine",
    "mock": "sora_mock.inprocess",
    "transport": "sora_mock.inprocess",
    "virtual_sleep": "sora_mock.inprocess",
    "check_client": "sora_mock.conformance",
    "conformance_tests": "sora_mock.conformance",
    "lifecycle_machine": "sora_mock.checker.stateful",
    "validate_request": "sora_mock.contract.validation",
    "validate_response": "sora_mock.contract.validation",
}

__all__ = [
    "BackgroundServer",
    "CheckOptions",
    "CheckResult",
    "Checker",
    "Clock",
    "ConfigError",
    "ConformanceFailure",
    "ConformanceReport",
    "Contract",
    "ContractViolation",
    "Engine",
    "HttpxMock",
    "MockAPI",
    "MockConfig",
    "PortInUseError",
    "RealClock",
    "Request",
    "Response",
    "ServerError",
    "SoraMockError",
    "SourceError",
    "SpecError",
    "UnreachableError",
    "UsageError",
    "VirtualClock",
    "__version__",
    "check_client",
    "conformance_tests",
    "lifecycle_machine",
    "mock",
    "transport",
    "validate_request",
    "validate_response",
    "virtual_sleep",
]

if TYPE_CHECKING:
    from sora_mock.checker import Checker, CheckOptions, CheckResult
    from sora_mock.checker.stateful import lifecycle_machine
    from sora_mock.conformance import ConformanceReport, check_client, conformance_tests
    from sora_mock.contract import Contract, Request, Response
    from sora_mock.contract.validation import validate_request, validate_response
    from sora_mock.engine import Clock, Engine, MockConfig, RealClock, VirtualClock
    from sora_mock.errors import (
        ConfigError,
        ConformanceFailure,
        ContractViolation,
        PortInUseError,
        ServerError,
        SoraMockError,
        SourceError,
        SpecError,
        UnreachableError,
        UsageError,
    )
    from sora_mock.inprocess import HttpxMock, MockAPI, mock, transport, virtual_sleep
    from sora_mock.server import BackgroundServer


__getattr__, __dir__ = _lazy_names(__name__, _EXPORTS)
