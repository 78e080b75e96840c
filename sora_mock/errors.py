"""The exceptions sora-mock raises.

Every error derives from :class:`SoraMockError`, so one ``except`` catches them all::

    SoraMockError
    ├── SourceError                      a file is broken; says file, line and column
    │   ├── SpecError(ValueError)        the bundled or given OpenAPI file
    │   └── ConfigError(ValueError)      a configuration or scenario file
    ├── UsageError(TypeError)            an API of sora-mock was called the wrong way
    ├── ServerError                      the HTTP server could not start
    │   └── PortInUseError
    ├── UnreachableError                 the server under check does not answer
    ├── ContractViolation(AssertionError)  a request or response breaks the contract
    ├── ConformanceFailure(AssertionError) a client breaks a conformance rule
    └── UnmockedCallError(AssertionError)  a test called the API's host and no mock answered

Usage errors also derive from the built-in exception a generic caller would expect;
a contract violation is also an ``AssertionError`` so that pytest reports it as a
failure, not an error.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConformanceFailure",
    "ContractViolation",
    "PortInUseError",
    "ServerError",
    "SoraMockError",
    "SourceError",
    "SpecError",
    "UnmockedCallError",
    "UnreachableError",
    "UsageError",
]


class SoraMockError(Exception):
    """Root of every exception raised by sora-mock."""


class SourceError(SoraMockError):
    """An error in a file, located by file, line and column when known."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: ``file:line:column: message`` with whatever is known."""
        where = [str(part) for part in (self.source, self.line, self.column) if part is not None]
        return f"{':'.join(where)}: {self.message}" if where else self.message


class SpecError(SourceError, ValueError):
    """The OpenAPI document is missing, unparsable or not a valid OpenAPI 3.1 spec."""


class ConfigError(SourceError, ValueError):
    """A configuration or scenario file is unparsable or breaks its schema."""


class UsageError(SoraMockError, TypeError):
    """sora-mock was called with arguments it cannot use."""


class ServerError(SoraMockError):
    """The mock's HTTP server could not be started."""


class PortInUseError(ServerError):
    """The requested host and port are already taken."""


class UnreachableError(SoraMockError):
    """The server a checker was pointed at cannot be reached (refused, timed out, no DNS)."""


class ContractViolation(SoraMockError, AssertionError):  # noqa: N818 - reads as a finding
    """A request or response breaks the contract; ``mismatches`` lists each break."""

    def __init__(self, summary: str, mismatches: list[str] | None = None) -> None:
        self.summary = summary
        self.mismatches = list(mismatches or [])
        lines = [summary, *(f"  - {m}" for m in self.mismatches)]
        super().__init__("\n".join(lines))


class ConformanceFailure(SoraMockError, AssertionError):  # noqa: N818 - reads as a finding
    """A client under test breaks conformance rules; the message lists each with evidence."""


class UnmockedCallError(SoraMockError, AssertionError):
    """A test called the API's host and no mock answered: the call never left the machine."""
