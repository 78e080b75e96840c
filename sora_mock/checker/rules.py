"""The contract's rules as pure checks over exchanges and task histories (no I/O).

A rule has a name users see in reports and can ignore (``--ignore-rule``). The checker
(:mod:`sora_mock.checker.runner`), the stateful machine (:mod:`sora_mock.checker.stateful`)
and the pytest suite all judge what they see with these functions, so a rule means the
same everywhere. What they judge is the engine's :class:`~sora_mock.engine.Exchange`, the
record the in-process calls and the conformance harness read too: one answered over HTTP
has no journal entry; a request that got no answer at all is a :class:`Probe` without one.

What a rule knows of the API (where a task body holds its status, which fields mark a
result or a failure, how ids look) it reads from the contract's task API
(:class:`TaskShape`), so the same rules judge any model of any contract.

Example::

    ledger = Ledger()
    check_probe(ledger, probe, Expectation(400, "invalid_request", "model"))
    check_exchange(ledger, api.calls.last, Expectation(200), label="an in-process call")
    history = TaskHistory(task_id)
    history.observe(ledger, probe)
    ledger.failures  # [Finding(rule="negative_rejected", ...), ...]
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sora_mock.contract import (
    BUILTIN_VALUES,
    PATTERN_PART,
    Contract,
    Request,
    Response,
    parse_retry_after,
)

if TYPE_CHECKING:
    # Annotations only: `import sora_mock.checker` stays free of the engine.
    from sora_mock.engine import Exchange

__all__ = [
    "RULES",
    "Expectation",
    "Finding",
    "Ledger",
    "Probe",
    "TaskHistory",
    "TaskShape",
    "check_exchange",
    "check_probe",
]

#: Every rule, with what it demands. Report order follows this order.
RULES: dict[str, str] = {
    "no_5xx": "no request gets a 5xx answer or a dropped connection",
    "status_code_conformance": "each request gets the status the contract prescribes for it",
    "positive_accepted": "a valid create request gets 200 and a pending task",
    "negative_rejected": "an invalid request is never answered 2xx",
    "auth_required": "a request without valid bearer credentials gets 401",
    "token_isolation": "another token never sees a task (403)",
    "response_schema": "every response (body and headers) validates against the spec",
    "content_type": "every API response is application/json",
    "error_envelope": "errors are {error: {code, message, type[, param]}} as documented",
    "retry_after": "every 429 carries Retry-After in whole seconds",
    "id_shape": "task ids have the shape the contract documents",
    "task_consistency": "a task's id, creation time, model and constant fields never change",
    "lifecycle_monotonic": "status and progress only move forward",
    "terminal_sticky": "a completed or failed task never changes again",
    "result_iff_completed": "a task carries its model's result exactly when it is completed",
    "error_iff_failed": "a task carries the failure fields exactly when it failed",
    "lifecycle_terminates": "every created task reaches completed or failed within the timeout",
}

Severity = Literal["failure", "warning"]
Path = tuple[str | int, ...]
_RANK = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
_TERMINAL = ("completed", "failed")
#: Built-in values that name the task: they never change.
_IDENTITY = ("id", "created", "model")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Probe:
    """One request the checker sent, labelled with what it tests, and what came of it.

    ``exchange`` is the request with its answer, the engine's
    :class:`~sora_mock.engine.Exchange` (without a journal entry when the server was reached
    over HTTP); it is None when no answer came at all, and ``error`` says how the connection
    failed. ``label`` says what the request was meant to test, e.g.
    ``create invalid: wrong_extension``; findings carry it into the reports.
    """

    label: str
    request: Request
    exchange: Exchange | None
    error: str | None = None

    @classmethod
    def answered(cls, label: str, exchange: Exchange) -> Probe:
        """A probe that got ``exchange``'s answer."""
        return cls(label, exchange.request, exchange)

    @classmethod
    def unanswered(cls, label: str, request: Request, error: str) -> Probe:
        """A probe that got no answer: ``error`` says why."""
        return cls(label, request, None, error)

    @property
    def response(self) -> Response | None:
        """The answer, or None when the connection failed."""
        return self.exchange.response if self.exchange is not None else None

    def json(self) -> Any:
        """The response body as JSON, or None when it is not JSON or there is none."""
        return self.exchange.json() if self.exchange is not None else None


@dataclass(frozen=True)
class Expectation:
    """What the contract prescribes for one request.

    ``kind`` picks the rule named when the status is wrong: ``positive`` (a valid create),
    ``negative`` (an invalid request), ``auth`` (no valid credentials), ``isolation``
    (another token's task) or ``lookup`` (a task poll).
    """

    status: int
    code: str | None = None
    param: str | None = None
    kind: Literal["positive", "negative", "auth", "isolation", "lookup"] = "lookup"


@dataclass(frozen=True)
class Finding:
    """A rule that did not hold (``failure``) or held only loosely (``warning``), ``at``
    seconds into the run, in a ``group`` of checks (the run's phase)."""

    rule: str
    severity: Severity
    message: str
    probe: Probe | None = None
    at: float = 0.0
    group: str = ""


@dataclass
class Ledger:
    """Counts how often each rule was checked and collects what it found.

    Rules in ``ignore`` are neither counted nor reported. ``group`` names the checks under
    way (the runner's phase): counts are kept per group (``by_group``; ``checked`` sums
    them), and findings carry it.
    """

    ignore: frozenset[str] = frozenset()
    findings: list[Finding] = field(default_factory=list)
    now: Callable[[], float] = field(default=lambda: 0.0, repr=False)
    group: str = ""
    by_group: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, *rules: str) -> None:
        """Record that ``rules`` were checked once more."""
        counts = self.by_group.setdefault(self.group, {})
        for rule in rules:
            if rule not in self.ignore:
                counts[rule] = counts.get(rule, 0) + 1

    @property
    def checked(self) -> dict[str, int]:
        """How often each rule was checked, over all groups (every rule named, 0 if never)."""
        totals = dict.fromkeys(RULES, 0)
        for counts in self.by_group.values():
            for rule, times in counts.items():
                totals[rule] = totals.get(rule, 0) + times
        return totals

    def fail(
        self,
        rule: str,
        message: str,
        probe: Probe | None = None,
        severity: Severity = "failure",
    ) -> None:
        """Record that ``rule`` did not hold."""
        if rule in self.ignore:
            return
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}")
        self.findings.append(Finding(rule, severity, message, probe, self.now(), self.group))

    def warn(self, rule: str, message: str, probe: Probe | None = None) -> None:
        """Record that ``rule`` held only loosely."""
        self.fail(rule, message, probe, "warning")

    @property
    def failures(self) -> list[Finding]:
        """Findings of severity ``failure``."""
        return [f for f in self.findings if f.severity == "failure"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of severity ``warning``."""
        return [f for f in self.findings if f.severity == "warning"]

    def failed_rules(self) -> set[str]:
        """Names of the rules with at least one failure."""
        return {f.rule for f in self.failures}


# -- one exchange ------------------------------------------------------------------------


def check_probe(
    ledger: Ledger,
    probe: Probe,
    expected: Expectation | None = None,
    contract: Contract | None = None,
) -> None:
    """Judge one probe: no answer breaks ``no_5xx``; an answer is judged as an exchange."""
    if probe.exchange is None:
        ledger.count("no_5xx")
        ledger.fail("no_5xx", f"the connection failed: {probe.error}", probe)
        return
    _judge(ledger, probe, probe.exchange, expected, contract or Contract.bundled())


def check_exchange(
    ledger: Ledger,
    exchange: Exchange,
    expected: Expectation | None = None,
    contract: Contract | None = None,
    *,
    label: str = "",
) -> None:
    """Judge one exchange by the rules every response must keep, and ``expected``.

    Findings name the exchange by ``label`` (e.g. what the request was meant to test).
    """
    _judge(
        ledger, Probe.answered(label, exchange), exchange, expected, contract or Contract.bundled()
    )


def _judge(
    ledger: Ledger,
    probe: Probe,
    exchange: Exchange,
    expected: Expectation | None,
    contract: Contract,
) -> None:
    status = exchange.status
    ledger.count("no_5xx")
    if status >= 500:
        ledger.fail("no_5xx", f"answered {status}", probe)
    _check_content_type(ledger, probe, exchange)
    _check_schema(ledger, probe, exchange, contract)
    if status >= 400:
        _check_envelope(ledger, probe, exchange, expected, contract)
    if status == 429:
        _check_retry_after(ledger, probe, exchange)
    if expected is not None and status < 500 and status != 429:
        _check_status(ledger, probe, status, expected)


def _check_content_type(ledger: Ledger, probe: Probe, exchange: Exchange) -> None:
    ledger.count("content_type")
    value = exchange.response.header("content-type") or ""
    if value.split(";", 1)[0].strip().lower() != "application/json":
        shown = repr(value) if value else "no Content-Type header"
        ledger.fail("content_type", f"expected application/json, got {shown}", probe)


def _check_schema(ledger: Ledger, probe: Probe, exchange: Exchange, contract: Contract) -> None:
    from sora_mock.contract.validation import iter_response_errors

    ledger.count("response_schema")
    verdict = _compiled_verdict(contract, exchange.request, exchange.response)
    if verdict is None:
        return
    # The reference validator says what is wrong; the content type has its own rule.
    mismatches = [
        m
        for m in iter_response_errors(exchange.request, exchange.response, contract)
        if m.path != "header.content-type"
    ]
    if mismatches:
        ledger.fail("response_schema", "; ".join(mismatches), probe)
    elif verdict:
        # The two validators disagree: report what the compiled one saw rather than hide it.
        ledger.fail("response_schema", f"compiled validator: {verdict}", probe)


def _compiled_verdict(contract: Contract, request: Request, response: Response) -> str | None:
    """None when the compiled validators accept the response, else why not ("" = unsure).

    The compiled (jsonschema-rs) validators take microseconds where the reference takes
    milliseconds; a property test proves the two agree, so only a suspect response pays
    for the reference.
    """
    operation = contract.match(request.method, request.path).operation
    if operation is None or response.status not in operation.statuses:
        return ""
    content_type = (response.header("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        return None  # the body cannot be judged; the content_type rule reports it
    for name, header in contract.response_headers(operation.operation_id, response.status).items():
        value = response.header(name)
        if value is None:
            if header.get("required"):
                return ""
        elif not _header_validator(
            contract, operation.operation_id, response.status, name
        ).is_valid(value):
            return ""
    validator = contract.response_validators.get((operation.operation_id, response.status))
    if validator is None:
        return None
    try:
        body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = list(validator.iter_errors(body))
    return None if not errors else "; ".join(e.message for e in errors[:3])


_HEADER_VALIDATORS: dict[tuple[int, str, int, str], Any] = {}


def _header_validator(contract: Contract, operation_id: str, status: int, name: str) -> Any:
    key = (id(contract), operation_id, status, name)
    if key not in _HEADER_VALIDATORS:
        schema = contract.response_headers(operation_id, status)[name].get("schema", {})
        _HEADER_VALIDATORS[key] = contract.schema_validator(schema)
    return _HEADER_VALIDATORS[key]


def _check_envelope(
    ledger: Ledger,
    probe: Probe,
    exchange: Exchange,
    expected: Expectation | None,
    contract: Contract,
) -> None:
    ledger.count("error_envelope")
    response = exchange.response
    body = exchange.json()
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        shown = response.body[:120].decode("utf-8", "replace")
        ledger.fail("error_envelope", f"expected {{'error': {{...}}}}, got {shown!r}", probe)
        return
    problems = [
        f"error.{key} must be a non-empty string, got {_short(error.get(key))}"
        for key in ("code", "message", "type")
        if not isinstance(error.get(key), str) or not error.get(key)
    ]
    if "param" in error and not isinstance(error["param"], str):
        problems.append(f"error.param must be a string, got {_short(error['param'])}")
    documented = _documented_error(contract, exchange.request, response.status)
    if documented is not None:
        for key, want in (("code", documented.code), ("type", documented.type)):
            if isinstance(error.get(key), str) and error.get(key) != want:
                problems.append(
                    f"error.{key} must be {want!r} for {response.status}, got {error.get(key)!r}"
                )
    if expected is not None and expected.status == response.status:
        if expected.code is not None and error.get("code") not in (None, expected.code):
            problems.append(f"error.code must be {expected.code!r}, got {error.get('code')!r}")
        if expected.param is not None and "param" in error and error["param"] != expected.param:
            problems.append(f"error.param must be {expected.param!r}, got {error['param']!r}")
        elif expected.param is not None and "param" not in error:
            ledger.warn(
                "error_envelope",
                f"error.param should name {expected.param!r}; it is absent",
                probe,
            )
    if problems:
        ledger.fail("error_envelope", "; ".join(problems), probe)


def _documented_error(contract: Contract, request: Request, status: int) -> Any:
    operation = contract.match(request.method, request.path).operation
    return None if operation is None else operation.errors.get(status)


def _check_retry_after(ledger: Ledger, probe: Probe, exchange: Exchange) -> None:
    ledger.count("retry_after")
    value = exchange.response.header("retry-after")
    parsed = parse_retry_after(value)
    if parsed is None or parsed.seconds is None:
        shown = "no Retry-After header" if value is None else f"Retry-After {value!r}"
        ledger.fail(
            "retry_after", f"a 429 must say when to retry in whole seconds; got {shown}", probe
        )


def _check_status(ledger: Ledger, probe: Probe, status: int, expected: Expectation) -> None:
    intended = _KIND_RULES.get(expected.kind)
    ledger.count("status_code_conformance", *([intended] if intended else []))
    if status == expected.status:
        return
    rule = _status_rule(status, expected)
    what = {
        "negative_rejected": "an invalid request was accepted",
        "auth_required": "a request without valid credentials was not refused with 401",
        "token_isolation": "another token could read the task",
        "positive_accepted": "a valid create request was refused",
    }.get(rule, "unexpected status")
    ledger.fail(rule, f"{what}: expected {expected.status}, got {status}", probe)


_KIND_RULES = {
    "positive": "positive_accepted",
    "negative": "negative_rejected",
    "auth": "auth_required",
    "isolation": "token_isolation",
}


def _status_rule(status: int, expected: Expectation) -> str:
    """The rule a wrong ``status`` breaks: the kind's own rule, or the generic one."""
    success = 200 <= status < 300
    if expected.kind == "negative" and success:
        return "negative_rejected"
    if expected.kind == "auth":
        return "auth_required"
    if expected.kind == "isolation" and success:
        return "token_isolation"
    if expected.kind == "positive" and 400 <= status < 500:
        return "positive_accepted"
    return "status_code_conformance"


# -- a task over time ----------------------------------------------------------------------


@dataclass(frozen=True)
class TaskShape:
    """What the rules read of a contract's task body (see :attr:`Contract.tasks
    <sora_mock.contract.Contract.tasks>`).

    Attributes:
        id_pattern: how the contract mints ids, e.g. ``t-{created}-{random:8}``.
        id_regex: the ids that pattern makes (``created`` as a group).
        id_valid: whether the read operation's id parameter schema accepts an id.
        places: where the body holds each built-in value (``status``, ``progress``...).
        stable: paths that never change: the task's identity and the template's literals.
        reported: paths of the model's reported values (a change is only a warning).
        completed: per model, the top-level fields a completed task adds.
        failure: the top-level fields a failed task adds.

    Example::

        shape = TaskShape.of(Contract.bundled())
        shape.value(body, "status"), shape.result_fields(shape.value(body, "model"))
    """

    id_pattern: str
    id_regex: re.Pattern[str]
    id_valid: Callable[[str], bool]
    places: Mapping[str, Path]
    stable: tuple[Path, ...]
    reported: tuple[Path, ...]
    completed: Mapping[str, tuple[str, ...]]
    failure: tuple[str, ...]

    @classmethod
    def of(cls, contract: Contract) -> TaskShape:
        """The shape of ``contract``'s task body (built once per contract)."""
        return _shape_of(contract)

    @property
    def id_text(self) -> str:
        """The id pattern as people read it, e.g. ``t-<created>-<8 of [a-z0-9]>``."""
        return PATTERN_PART.sub(_readable_part, self.id_pattern)

    @property
    def any_result(self) -> tuple[str, ...]:
        """The fields some model's completed task adds."""
        return tuple(sorted({key for keys in self.completed.values() for key in keys}))

    def result_fields(self, model: Any) -> tuple[str, ...]:
        """The fields a completed task of ``model`` adds (of every model when unknown)."""
        found = self.completed.get(model) if isinstance(model, str) else None
        return self.any_result if found is None else found

    def value(self, body: Mapping[str, Any], name: str) -> Any:
        """The built-in value ``name`` in ``body``, or None when it is absent."""
        found = _at(body, self.places.get(name, (name,)))
        return None if found is _MISSING else found


@functools.lru_cache(maxsize=16)
def _shape_of(contract: Contract) -> TaskShape:
    tasks = contract.tasks
    places = {name: path for name in BUILTIN_VALUES if (path := tasks.field_path(name))}
    literal = [path for path, leaf in _leaves(tasks.task.source, ()) if not _names_in(leaf)]
    identity = [places[name] for name in _IDENTITY if name in places]
    reported = [
        path
        for path, leaf in _leaves(tasks.task.source, ())
        if _names_in(leaf) and not _names_in(leaf) & BUILTIN_VALUES
    ]
    completed = {
        name: tuple(model.completed.source)
        for name, model in tasks.models.items()
        if model.completed is not None and isinstance(model.completed.source, Mapping)
    }
    validator = contract.parameter_validator(tasks.read, tasks.id_parameter)
    return TaskShape(
        id_pattern=tasks.id_pattern,
        id_regex=id_regex(tasks.id_pattern),
        id_valid=validator.is_valid,
        places=places,
        stable=(*identity, *literal),
        reported=tuple(reported),
        completed={name: completed.get(name, ()) for name in tasks.models},
        failure=tuple(sorted(tasks.failure_fields())),
    )


def id_regex(pattern: str) -> re.Pattern[str]:
    """A regex of the ids ``pattern`` makes (a contract's ``task-id``); the first
    ``{created}`` is the group ``created``."""
    parts = []
    at = 0
    created = False
    for found in PATTERN_PART.finditer(pattern):
        parts.append(re.escape(pattern[at : found.start()]))
        at = found.end()
        if found.group(3):
            parts.append("([0-9]+)" if created else "(?P<created>[0-9]+)")
            created = True
        else:
            letters = "a-z0-9" if found.group(1) == "random" else "A-Za-z"
            parts.append(f"[{letters}]{{{found.group(2)}}}")
    parts.append(re.escape(pattern[at:]))
    return re.compile("".join(parts))


def _readable_part(found: re.Match[str]) -> str:
    if found.group(3):
        return "<created>"
    if found.group(1) == "random":
        return f"<{found.group(2)} of [a-z0-9]>"
    return f"<{found.group(2)} letters>"


def _leaves(node: Any, at: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, (*at, str(key)))
    elif isinstance(node, list) and node:
        for index, item in enumerate(node):
            yield from _leaves(item, (*at, index))
    else:
        yield at, node


def _names_in(leaf: Any) -> set[str]:
    """The value names a template leaf uses (none for a literal)."""
    if not isinstance(leaf, str):
        return set()
    return set(re.findall(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}", leaf))


def _at(body: Any, path: Path) -> Any:
    """The value at ``path`` in ``body``, or ``_MISSING``."""
    node = body
    for part in path:
        inside = (
            part in node
            if isinstance(node, Mapping)
            else isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if not inside:
            return _MISSING
        node = node[part]
    return node


def _label(path: Path) -> str:
    return ".".join(str(part) for part in path)


class TaskHistory:
    """Everything seen of one task, judged as each new observation arrives.

    Args:
        task_id: the task's id.
        contract: the contract its body is judged by (default: the bundled one).
    """

    def __init__(self, task_id: str, contract: Contract | None = None) -> None:
        self.task_id = task_id
        self.shape = TaskShape.of(contract or Contract.bundled())
        self.seen: list[tuple[Probe, Mapping[str, Any]]] = []

    @property
    def last(self) -> Mapping[str, Any] | None:
        """The latest task body seen."""
        return self.seen[-1][1] if self.seen else None

    @property
    def terminal(self) -> bool:
        """True once the task was seen completed or failed."""
        return self.last is not None and self.shape.value(self.last, "status") in _TERMINAL

    def values(self, name: str) -> list[Any]:
        """The built-in value ``name`` (e.g. ``status``) in each body seen, oldest first."""
        return [self.shape.value(body, name) for _, body in self.seen]

    def observe(self, ledger: Ledger, probe: Probe) -> None:
        """Judge a 200 task body (from create or a poll) against this task's history.

        A probe without an answer, or whose body is not a JSON object, adds nothing.
        """
        body = probe.json()
        if not isinstance(body, Mapping):
            return  # the schema rule already reports it
        _check_body(ledger, probe, body, self.shape)
        previous = self.last
        status = self.shape.value(body, "status")
        if previous is None and status != "pending":
            ledger.warn("positive_accepted", f"a new task should be pending, got {status!r}", probe)
        if previous is not None:
            self._compare(ledger, probe, previous, body)
        self.seen.append((probe, body))

    def _compare(
        self,
        ledger: Ledger,
        probe: Probe,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
    ) -> None:
        shape = self.shape
        ledger.count("task_consistency", "lifecycle_monotonic")
        changed = [
            (path, _at(before, path), _at(after, path))
            for path in shape.stable
            if _at(before, path) != _at(after, path)
        ]
        if changed:
            ledger.fail(
                "task_consistency",
                "changed between polls: "
                + ", ".join(
                    f"{_label(p)} {_shown(old)} -> {_shown(new)}" for p, old, new in changed
                ),
                probe,
            )
        for path in shape.reported:
            old, new = _at(before, path), _at(after, path)
            if old is not _MISSING and new is not _MISSING and old != new:
                ledger.warn("task_consistency", f"{_label(path)} changed {old} -> {new}", probe)
        old_status, new_status = shape.value(before, "status"), shape.value(after, "status")
        old_progress, new_progress = shape.value(before, "progress"), shape.value(after, "progress")
        transition = f"{old_status} ({old_progress}%) -> {new_status} ({new_progress}%)"
        if old_status in _TERMINAL:
            ledger.count("terminal_sticky")
            moved = [
                name
                for name in ("status", "progress")
                if shape.value(before, name) != shape.value(after, name)
            ] + [
                key
                for key in (*shape.any_result, *shape.failure)
                if before.get(key, _MISSING) != after.get(key, _MISSING)
            ]
            if moved:
                ledger.fail(
                    "terminal_sticky",
                    f"a {old_status} task changed ({', '.join(moved)}): {transition}",
                    probe,
                )
        if _RANK.get(str(old_status), -1) > _RANK.get(str(new_status), 99):
            ledger.fail("lifecycle_monotonic", f"status moved backwards: {transition}", probe)
        elif (
            isinstance(old_progress, int)
            and isinstance(new_progress, int)
            and new_progress < old_progress
        ):
            if new_status == "failed" and old_status != "failed" and new_progress == 0:
                # A vendor may report a failed task at progress 0: the drop is only a warning.
                ledger.warn(
                    "lifecycle_monotonic",
                    f"progress dropped to 0 on failure: {transition}",
                    probe,
                )
            else:
                ledger.fail("lifecycle_monotonic", f"progress moved backwards: {transition}", probe)


def _check_body(ledger: Ledger, probe: Probe, body: Mapping[str, Any], shape: TaskShape) -> None:
    status = shape.value(body, "status")
    ledger.count("result_iff_completed", "error_iff_failed", "id_shape")
    model = shape.value(body, "model")
    if model not in shape.completed:
        # The schema selects by model, so a body of no known model escapes it: say so here.
        known = ", ".join(repr(name) for name in shape.completed)
        ledger.fail("response_schema", f"model {_short(model)} is none of {known}", probe)
    result = shape.result_fields(model)
    if status == "completed":
        missing = [key for key in result if key not in body]
        if missing:
            ledger.fail(
                "result_iff_completed", f"a completed task has no {', '.join(missing)}", probe
            )
    else:
        carried = [key for key in shape.any_result if key in body and key not in shape.failure]
        if carried:
            ledger.fail(
                "result_iff_completed", f"a {status} task carries {', '.join(carried)}", probe
            )
    if status == "failed":
        missing = [key for key in shape.failure if key not in body]
        if missing:
            ledger.fail("error_iff_failed", f"a failed task has no {', '.join(missing)}", probe)
    else:
        carried = [key for key in shape.failure if key in body]
        if carried:
            shown = ", ".join(f"{key} {_short(body[key])}" for key in carried)
            ledger.fail("error_iff_failed", f"a {status} task carries {shown}", probe)
    task_id = shape.value(body, "id")
    found = shape.id_regex.fullmatch(task_id) if isinstance(task_id, str) else None
    if found is None or not shape.id_valid(task_id):
        ledger.fail("id_shape", f"id {_short(task_id)} is not {shape.id_text}", probe)
        return
    created = shape.value(body, "created")
    embedded = found.groupdict().get("created")
    if embedded is not None and created is not None and embedded != str(created):
        ledger.warn("id_shape", f"id {task_id} does not embed created ({created})", probe)


def _shown(value: Any) -> str:
    return "(absent)" if value is _MISSING else _short(value)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
