"""Declarative scenarios: what the mock does for which request.

A scenario has a name, an optional ``match`` (which requests select it from a file), a
``create`` and a ``poll`` effect (an immediate error, a burst, latency, a fault) and a
``task`` plan (how tasks created under it live). Scenarios come from three places:

- the built-in library (every documented error of both operations, every task failure
  code, and common situations such as ``slow`` or ``flaky-create``), chosen by name;
- the ``scenarios`` list of a configuration file, tried in file order (first match wins);
- files or JSON loaded at run time through the admin API.

Which scenario applies to a request (see :class:`ScenarioBook.resolve`): a ``Prefer``
header first, then the scenario the task was created under, then the first file match.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from sora_mock.contract import Contract, YamlDocument, builtin_scenarios_path
from sora_mock.engine.lifecycle import Lifecycle, lifecycle_from_dict
from sora_mock.errors import ConfigError

CREATE = "create"
POLL = "poll"


@dataclass(frozen=True)
class Matcher:
    """Exact, glob or regex matching of one string value."""

    kind: str
    pattern: str
    regex: re.Pattern[str]

    @classmethod
    def from_spec(cls, spec: str | Mapping[str, str]) -> Matcher:
        """From ``"text"`` (exact) or ``{exact|glob|regex: pattern}``; a bad regex raises."""
        kind, pattern = ("exact", spec) if isinstance(spec, str) else next(iter(spec.items()))
        if kind == "exact":
            regex = re.compile(re.escape(pattern))
        elif kind == "glob":
            regex = re.compile(fnmatch.translate(pattern), re.DOTALL)
        else:
            regex = re.compile(pattern)
        return cls(kind, pattern, regex)

    def matches(self, value: object) -> bool:
        """True when ``value`` (compared as text) matches; a regex may match anywhere."""
        if value is None:
            return False
        text = value if isinstance(value, str) else str(value)
        if self.kind == "regex":
            return self.regex.search(text) is not None
        return self.regex.fullmatch(text) is not None


@dataclass(frozen=True)
class Match:
    """Which requests select a scenario from a file. Every given part must match."""

    operation: str | None = None
    token: Matcher | None = None
    path: Matcher | None = None
    headers: tuple[tuple[str, Matcher], ...] = ()
    body: tuple[tuple[str, Matcher], ...] = ()

    def matches(
        self,
        operation: str,
        path: str,
        token: str | None,
        headers: Mapping[str, str],
        body: Mapping[str, Any] | None,
    ) -> bool:
        """True when the request fits every part of this match."""
        if self.operation is not None and self.operation != operation:
            return False
        if self.token is not None and not self.token.matches(token):
            return False
        if self.path is not None and not self.path.matches(path):
            return False
        if any(not m.matches(headers.get(name)) for name, m in self.headers):
            return False
        return not self.body or (
            body is not None and all(m.matches(body.get(name)) for name, m in self.body)
        )


@dataclass(frozen=True)
class ErrorReply:
    """An immediate error answer: a documented status with optional overrides."""

    status: int
    code: str | None = None
    message: str | None = None
    type: str | None = None
    param: str | None = None
    retry_after: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Effect:
    """What happens to one call: an error reply, latency and faults, maybe for N calls."""

    reply: ErrorReply | None = None
    times: int | None = None
    latency: tuple[float, float] | None = None
    fault: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A named behaviour: its match, its effects on create and poll, and its task plan."""

    name: str
    description: str = ""
    source: str = "builtin"
    match: Match | None = None
    create: Effect | None = None
    poll: Effect | None = None
    task: Mapping[str, Any] = field(default_factory=dict)
    #: Values its tasks report instead of the spec's or the drawn ones, by name.
    result: Mapping[str, Any] = field(default_factory=dict)

    def plan(self, base: Lifecycle) -> Lifecycle:
        """The lifecycle of tasks created under this scenario."""
        return lifecycle_from_dict(self.task, base) if self.task else base

    def effect(self, operation: str) -> Effect | None:
        """The effect on ``create`` or ``poll`` calls."""
        return self.create if operation == CREATE else self.poll

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description for listings."""
        return {"name": self.name, "description": self.description, "source": self.source}


class ScenarioBook:
    """The built-in scenarios plus the file ones, in order; thread-safe to read."""

    def __init__(self, builtin: Iterable[Scenario], loaded: Iterable[Scenario] = ()) -> None:
        self.builtin = {s.name: s for s in builtin}
        self.loaded: tuple[Scenario, ...] = tuple(loaded)

    @classmethod
    def standard(cls, contract: Contract, loaded: Iterable[Scenario] = ()) -> ScenarioBook:
        """The built-in library for ``contract`` plus ``loaded`` scenarios."""
        return cls(builtin_scenarios(contract), loaded)

    def with_loaded(self, loaded: Iterable[Scenario], *, replace: bool) -> ScenarioBook:
        """A new book with ``loaded`` replacing, or added before, the current file scenarios.

        Added scenarios replace any earlier one of the same name.
        """
        added = tuple(loaded)
        if replace:
            return ScenarioBook(self.builtin.values(), added)
        names = {s.name for s in added}
        return ScenarioBook(
            self.builtin.values(), added + tuple(s for s in self.loaded if s.name not in names)
        )

    def get(self, name: str) -> Scenario | None:
        """The scenario called ``name``: a loaded one first, else a built-in one."""
        return self._loaded_by_name.get(name) or self.builtin.get(name)

    def first_match(
        self,
        operation: str,
        path: str,
        token: str | None,
        headers: Mapping[str, str],
        body: Mapping[str, Any] | None,
    ) -> Scenario | None:
        """The first loaded scenario whose match fits, in file order."""
        for scenario in self.loaded:
            if scenario.match is not None and scenario.match.matches(
                operation, path, token, headers, body
            ):
                return scenario
        return None

    def __iter__(self) -> Iterator[Scenario]:
        yield from self.loaded
        loaded = self._loaded_by_name
        yield from (s for s in self.builtin.values() if s.name not in loaded)

    def names(self) -> list[str]:
        """Every scenario name available, loaded ones first."""
        return [s.name for s in self]

    @cached_property
    def matches_bodies(self) -> bool:
        """True when some loaded scenario matches on body fields (so bodies must be parsed)."""
        return any(s.match is not None and s.match.body for s in self.loaded)

    @cached_property
    def _loaded_by_name(self) -> dict[str, Scenario]:
        return {s.name: s for s in self.loaded}


# -- loading -------------------------------------------------------------------------------


def scenarios_from_document(
    document: YamlDocument,
    data: Any = None,
    path: Sequence[str | int] = ("scenarios",),
    contract: Contract | Literal[False] | None = None,
) -> tuple[Scenario, ...]:
    """Build the scenarios at ``path`` of an already schema-checked document.

    Checks what the schema cannot (regexes compile, names are unique, ``extends`` names a
    known scenario, progress curves do not decrease, reply headers can be sent as written;
    against the models of ``contract`` (default: the bundled one; False: none of these):
    statuses are documented, failure codes listed, result values known and a cost a number)
    and raises :class:`ConfigError` with file, line and column. ``extends`` is resolved here,
    against earlier scenarios of the same file and the built-in library.
    """
    codes = failure_codes(contract) if contract is not False else frozenset()
    statuses = error_statuses(contract) if contract is not False else None
    values = result_values(contract) if contract is not False else None
    items = document.data if data is None else data
    for part in path:
        items = items.get(part, []) if isinstance(items, Mapping) else []
    built: dict[str, Scenario] = {}
    for index, raw in enumerate(items or []):
        where = [*path, index]
        if raw["name"] in built:
            raise document.error(
                f"duplicate scenario name {raw['name']!r}", [*where, "name"], ConfigError
            )
        scenario = _scenario(raw, document, where)
        for short in (CREATE, POLL):
            status = (raw.get(short) or {}).get("response", {}).get("status")
            if statuses is not None and status is not None and status not in statuses[short]:
                documented = ", ".join(str(s) for s in sorted(statuses[short]))
                raise document.error(
                    f"{status} is not an error status the spec documents for {short} "
                    f"({documented})",
                    [*where, short, "response", "status"],
                    ConfigError,
                )
        result = raw.get("task", {}).get("result", {})
        found = None if values is None else values.first_problem(result)
        if found is not None:
            raise document.error(found.message, [*where, "task", "result", found.name], ConfigError)
        code = raw.get("task", {}).get("failure", {}).get("code")
        if codes and code is not None and code not in codes:
            raise document.error(
                f"{code!r} is not a failure code of the spec's models ({', '.join(sorted(codes))})",
                [*where, "task", "failure", "code"],
                ConfigError,
            )
        if "extends" in raw:
            base = built.get(raw["extends"]) or _builtins_of(contract).get(raw["extends"])
            if base is None:
                raise document.error(
                    f"extends unknown scenario {raw['extends']!r} (see: sora-mock scenarios list)",
                    [*where, "extends"],
                    ConfigError,
                )
            scenario = _extend(base, scenario, raw)
        built[scenario.name] = scenario
    return tuple(built.values())


def _fails_with_one_of(scenario: Scenario, codes: Mapping[str, None]) -> bool:
    """False for a scenario whose failure code the contract's models do not list."""
    code = scenario.task.get("failure", {}).get("code")
    return code is None or not codes or code in codes


def error_statuses(contract: Contract | None) -> dict[str, frozenset[int]]:
    """The error statuses the contract's (default: the bundled) create and read document."""
    tasks = (contract or Contract.bundled()).tasks
    return {CREATE: frozenset(tasks.create.errors), POLL: frozenset(tasks.read.errors)}


@dataclass(frozen=True)
class ResultValues:
    """The values a scenario's ``result`` may set: every model's named and drawn values,
    and which of them is a model's cost (a number, charged on create)."""

    names: frozenset[str]
    costs: Mapping[str, str]

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be reported as ``name``, or None."""
        if name not in self.names:
            known = ", ".join(sorted(self.names))
            return f"{name!r} is not a value the spec's tasks report ({known})"
        model = self.costs.get(name)
        if model is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"{name} must be a number: it is what a create of {model} costs"
        return None

    def first_problem(
        self, values: Mapping[str, Any], skip: frozenset[str] = frozenset()
    ) -> ValueProblem | None:
        """The first of ``values`` (by name, those in ``skip`` left out) that cannot be
        reported, and why; None when every one can."""
        for name, value in values.items():
            problem = None if name in skip else self.problem(name, value)
            if problem is not None:
                return ValueProblem(name, problem)
        return None


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """A value that cannot be reported: its ``name``, and why (``message``)."""

    name: str
    message: str


def result_values(contract: Contract | None) -> ResultValues:
    """The values the contract's (default: the bundled) models let a scenario's result set."""
    models = (contract or Contract.bundled()).tasks.models.values()
    names = frozenset(n for m in models for n in (*m.values, *m.generated))
    costs = {m.cost: m.name for m in models if isinstance(m.cost, str)}
    return ResultValues(names, costs)


def failure_codes(contract: Contract | None) -> frozenset[str]:
    """Every task failure code the contract's (default: the bundled) models list."""
    models = (contract or Contract.bundled()).tasks.models.values()
    return frozenset(code for model in models for code in model.failure_codes)


def _extend(base: Scenario, own: Scenario, raw: Mapping[str, Any]) -> Scenario:
    """``own`` with whatever it leaves unsaid taken from ``base``."""
    return dataclasses.replace(
        own,
        description=own.description or base.description,
        create=own.create if "create" in raw else base.create,
        poll=own.poll if "poll" in raw else base.poll,
        task={**base.task, **own.task},
        result=own.result if "result" in raw.get("task", {}) else base.result,
    )


def _builtins_of(contract: Contract | Literal[False] | None) -> dict[str, Scenario]:
    """The built-in library of ``contract`` (None or False: the bundled one), by name."""
    return _builtin_by_name(contract or Contract.bundled())


@functools.cache
def _builtin_by_name(contract: Contract) -> dict[str, Scenario]:
    return {s.name: s for s in builtin_scenarios(contract)}


def _scenario(raw: Mapping[str, Any], document: YamlDocument, where: list[str | int]) -> Scenario:
    task = dict(raw.get("task", {}))
    result = task.pop("result", {})
    curve = task.get("progress_curve", [])
    if any(b < a for a, b in itertools.pairwise(curve)):
        raise document.error(
            "progress_curve must not decrease", [*where, "task", "progress_curve"], ConfigError
        )
    return Scenario(
        name=raw["name"],
        description=raw.get("description", ""),
        source=document.source,
        match=_match(raw["match"], document, [*where, "match"]) if "match" in raw else None,
        create=_effect(raw.get("create"), document, [*where, CREATE]),
        poll=_effect(raw.get("poll"), document, [*where, POLL]),
        task=task,
        result=dict(result),
    )


def _match(raw: Mapping[str, Any], document: YamlDocument, where: list[str | int]) -> Match:
    def matcher(spec: Any, at: list[str | int]) -> Matcher:
        try:
            return Matcher.from_spec(spec)
        except re.error as exc:
            raise document.error(f"invalid regex: {exc}", at, ConfigError) from None

    return Match(
        operation=raw.get("operation"),
        token=matcher(raw["token"], [*where, "token"]) if "token" in raw else None,
        path=matcher(raw["path"], [*where, "path"]) if "path" in raw else None,
        headers=tuple(
            (name.lower(), matcher(spec, [*where, "headers", name]))
            for name, spec in raw.get("headers", {}).items()
        ),
        body=tuple(
            (name, matcher(spec, [*where, "body", name]))
            for name, spec in raw.get("body", {}).items()
        ),
    )


def _effect(
    raw: Mapping[str, Any] | None, document: YamlDocument, where: list[str | int]
) -> Effect | None:
    if raw is None:
        return None
    reply = None
    if "response" in raw:
        response = dict(raw["response"])
        given = response.pop("headers", {})
        for name, value in given.items():
            problem = header_problem(name, value)
            if problem is not None:
                raise document.error(problem, [*where, "response", "headers", name], ConfigError)
        headers = tuple((k.lower(), v) for k, v in given.items())
        reply = ErrorReply(**response, headers=headers)
    latency = raw.get("latency")
    if isinstance(latency, Mapping):
        latency = (float(latency["min"]), float(max(latency["min"], latency["max"])))
    elif latency is not None:
        latency = (float(latency), float(latency))
    return Effect(reply=reply, times=raw.get("times"), latency=latency, fault=raw.get("fault"))


#: A header name as HTTP writes it (RFC 9110 token).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: A header value a server can send as written: visible ASCII, spaces and tabs inside.
_HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?|")
#: Headers that frame the message or the connection: the server writes them, not a scenario.
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
)


def header_problem(name: str, value: str) -> str | None:
    """Why a scenario's reply cannot send header ``name: value`` as written, or None."""
    if not _HEADER_NAME.fullmatch(name):
        return f"{name!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)"
    if name.lower() in FRAMING_HEADERS:
        return f"{name} frames the message: the server writes it, a scenario cannot"
    if not _HEADER_VALUE.fullmatch(value):
        return (
            f"the value of {name} must be visible ASCII, with spaces or tabs only inside: {value!r}"
        )
    return None


def scenarios_from_text(
    text: str, source: str, contract: Contract | None = None
) -> tuple[Scenario, ...]:
    """Scenarios from YAML or JSON text holding ``{"scenarios": [...]}`` and nothing else,
    checked as a file's are against ``contract`` (default: the bundled one)."""
    from sora_mock.engine.config_schema import check_document

    document = YamlDocument.from_text(text, source, ConfigError)
    check_document(document)
    extra = sorted(set(document.data or {}) - {"scenarios"})
    if extra:
        raise document.error(
            f"only 'scenarios' can be loaded at run time, not {', '.join(extra)}",
            [extra[0]],
            ConfigError,
        )
    return scenarios_from_document(document, contract=contract)


# -- the built-in library --------------------------------------------------------------------


@functools.cache
def builtin_scenarios(contract: Contract) -> tuple[Scenario, ...]:
    """Every documented error of both operations (``create-<code>``, ``poll-<code>``), then
    the scenarios of ``builtin-scenarios.yaml`` (task failures and common situations).

    Cached per contract: parsing the library costs ~0.1 s and its scenarios are frozen, so
    every engine of a process (the conformance harness builds one per situation) shares it.
    """
    library = []
    tasks = contract.tasks
    for short, operation in ((CREATE, tasks.create), (POLL, tasks.read)):
        operation_id = operation.operation_id
        for status, error in sorted(operation.errors.items()):
            effect = Effect(reply=ErrorReply(status))
            library.append(
                Scenario(
                    name=f"{short}-{error.code}",
                    description=f"{operation_id} answers {status} {error.code}: {error.message}",
                    **{short: effect},  # type: ignore[arg-type]
                )
            )
    from sora_mock.engine.config_schema import check_document

    document = YamlDocument.from_path(builtin_scenarios_path(), ConfigError)
    check_document(document)
    codes = dict.fromkeys(code for model in tasks.models.values() for code in model.failure_codes)
    listed = [
        dataclasses.replace(s, source="builtin")
        for s in scenarios_from_document(document, contract=False)
        if _fails_with_one_of(s, codes)
    ]
    named = {s.name for s in listed}
    failures = [
        Scenario(
            name=f"fail-{code}",
            description=f"The task fails with {code}.",
            task={
                "outcome": "failed",
                "failure": {"code": code, "message": f"Task failed: {code}"},
            },
        )
        for code in codes
        if f"fail-{code}" not in named
    ]
    return (*library, *listed, *failures)
