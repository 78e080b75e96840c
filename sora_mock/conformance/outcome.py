"""What a client reports at the end of a run, and whether it matches the situation.

A Python client returns an outcome or raises; a command exits with a code and may print a
JSON object as the last line of stdout. Both become an :class:`Outcome`. Statuses are
``completed`` (success), ``failed`` (the task failed), ``error`` (a call failed),
``timeout`` (the client gave up waiting), and ``stopped`` when the harness had to stop
the client; anything but ``completed`` is a non-success.

On success a client may report what it got: any value of the task by its name (a value the
model draws or serves as a file, e.g. a generated name) or ``result``, any string the
completed task's body holds (e.g. a link to the made video). Each reported value is checked
against what the tasks the client saw completed actually made.
"""

from __future__ import annotations

import json
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from sora_mock.conformance.situations import Expectation, Situation

#: Exception attributes that may carry an error code or an HTTP status.
_CODE_ATTRIBUTES = ("code", "error_code", "failure_code")
_STATUS_ATTRIBUTES = ("http_status", "status_code", "status", "code")
#: Outcome fields with a meaning of their own; any other reported text is a value.
_OUTCOME_FIELDS = frozenset({"status", "error_code", "http_status", "detail", "conflict"})
#: The reported name of any string the completed task's body holds.
RESULT = "result"


@dataclass(frozen=True)
class Made:
    """What one completed task made, as the engine renders it: its named values (those
    the body shows whole) and every string in its body."""

    values: Mapping[str, str]
    strings: frozenset[str]

    @classmethod
    def from_body(cls, body: Any, paths: Mapping[str, tuple[str | int, ...]]) -> Made:
        """From a rendered task ``body`` and where in it each named value shows."""
        values = {}
        for name, path in paths.items():
            value = _at(body, path)
            if isinstance(value, str):
                values[name] = value
        return cls(values, frozenset(_strings(body)))


@dataclass(frozen=True)
class Outcome:
    """A client's reported result of one run.

    ``values`` holds what the client reported it got, by name (a task value's name or
    ``result``). ``text`` is everything the client said (exception text, command output) in
    which a failure code may be carried when no field names it.
    """

    status: str
    values: Mapping[str, str] = field(default_factory=dict)
    error_code: str | None = None
    http_status: int | None = None
    detail: str = ""
    text: str = ""
    conflict: str | None = None
    exit_code: int | None = None

    @property
    def success(self) -> bool:
        """True when the client reports success."""
        return self.status == "completed"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], **extra: Any) -> Outcome:
        """From ``{"status": ..., "error_code"?, "http_status"?, NAME?: value, ...}``: every
        other text field is a reported value."""
        status = data.get("status")
        http_status = data.get("http_status")
        values = {
            str(key): text
            for key, value in data.items()
            if key not in _OUTCOME_FIELDS and (text := _text(value)) is not None
        }
        return cls(
            status=str(status) if status is not None else "completed",
            values=values,
            error_code=_text(data.get("error_code")),
            http_status=http_status if isinstance(http_status, int) else None,
            **extra,
        )

    @classmethod
    def from_return(cls, value: Any) -> Outcome:
        """From what a Python client returned: an Outcome, a mapping, a string (its
        ``result``), None, or an object whose attributes are read as a mapping's keys."""
        if isinstance(value, Outcome):
            return value
        if isinstance(value, Mapping):
            return cls.from_mapping(value, detail=f"returned {value!r}")
        if isinstance(value, str):
            return cls("completed", values={RESULT: value}, detail=f"returned {value!r}")
        if value is None:
            return cls("completed", detail="returned None")
        return cls.from_mapping(_attributes(value), detail=f"returned {value!r}")

    @classmethod
    def from_exception(cls, exc: BaseException) -> Outcome:
        """From an exception a Python client raised: a non-success that may carry codes."""
        texts: list[str] = []
        code: str | None = None
        status: int | None = None
        seen: BaseException | None = exc
        while seen is not None and len(texts) < 5:
            texts.append(f"{type(seen).__name__}: {seen}")
            for name in _CODE_ATTRIBUTES:
                code = code or _text(_attribute(seen, name))
            for name in _STATUS_ATTRIBUTES:
                value = _attribute(seen, name)
                if status is None and isinstance(value, int) and 100 <= value <= 599:
                    status = value
            response = getattr(seen, "response", None)
            response_status = getattr(response, "status_code", None)
            if status is None and isinstance(response_status, int):
                status = response_status
            seen = seen.__cause__ or seen.__context__
        frames = traceback.extract_tb(exc.__traceback__)
        where = [f"at {f.filename}:{f.lineno} in {f.name}" for f in frames[-1:]]
        return cls(
            "error",
            error_code=code,
            http_status=status,
            detail=f"raised {texts[0]}",
            text="\n".join([*texts, *where]),
        )

    @classmethod
    def from_command(cls, exit_code: int, stdout: str, stderr: str) -> Outcome:
        """From a command's exit code and output (the last stdout line may be JSON)."""
        lines = [line for line in stdout.splitlines() if line.strip()]
        reported = _json_object(lines[-1]) if lines else None
        said = f"exit code {exit_code}"
        text = f"{stdout}\n{stderr}"
        if reported is None or "status" not in reported:
            status = "completed" if exit_code == 0 else "error"
            return cls(status, detail=said, text=text, exit_code=exit_code)
        outcome = cls.from_mapping(reported, detail=f"{said}, reported {lines[-1].strip()}")
        conflict = None
        if (exit_code == 0) != outcome.success:
            conflict = f"exit code {exit_code} contradicts the reported status {outcome.status!r}"
        return cls(
            outcome.status,
            outcome.values,
            outcome.error_code,
            outcome.http_status,
            outcome.detail,
            text,
            conflict,
            exit_code,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (without the raw text)."""
        return {
            "status": self.status,
            **self.values,
            "error_code": self.error_code,
            "http_status": self.http_status,
            "detail": self.detail,
            **({"conflict": self.conflict} if self.conflict else {}),
        }


def outcome_problem(outcome: Outcome, situation: Situation, made: Mapping[str, Made]) -> str | None:
    """Why ``outcome`` does not match ``situation``, or None when it matches one of the
    situation's expectations. ``made`` holds what each task the client saw completed made
    (by task id)."""
    if outcome.conflict:
        return outcome.conflict
    problems = [_mismatch(outcome, e, made) for e in situation.expect]
    if any(p is None for p in problems):
        return None
    return "; or ".join(p for p in problems if p)


def _mismatch(outcome: Outcome, expected: Expectation, made: Mapping[str, Made]) -> str | None:
    said = outcome.detail or outcome.status
    if expected.kind == "completed":
        if not outcome.success:
            return f"expected success, the client reported {outcome.status} ({said})"
        if not made:
            return f"reported success ({said}), but it never saw a task completed"
        return _unmade(outcome, made.values())
    if outcome.success:
        return f"expected {expected.describe()}, the client reported success ({said})"
    if expected.kind == "failed":
        if outcome.error_code is not None and outcome.error_code != expected.code:
            return (
                f"reported error_code {outcome.error_code!r}, "
                f"the task failed with {expected.code!r}"
            )
        if outcome.error_code is None and (expected.code or "") not in outcome.text:
            return f"the failure code {expected.code!r} is not in what the client reported ({said})"
        return None
    if expected.kind == "error":
        if outcome.http_status is not None and outcome.http_status != expected.http_status:
            return f"reported HTTP {outcome.http_status}, the mock answered {expected.http_status}"
        if outcome.error_code is not None and outcome.error_code != expected.code:
            return (
                f"reported error_code {outcome.error_code!r}, the mock answered {expected.code!r}"
            )
    return None


def _unmade(outcome: Outcome, made: Iterable[Made]) -> str | None:
    """Why a value the client reported is not one its tasks made, or None."""
    tasks = list(made)
    for name, value in outcome.values.items():
        if name == RESULT:
            if not any(value in task.strings for task in tasks):
                return f"reported result {value!r}, which no completed task's body holds"
            continue
        values = sorted({task.values[name] for task in tasks if name in task.values})
        if values and value not in values:
            return f"reported {name} {value!r}, but the task made {', '.join(values)}"
    return None


def _attributes(value: Any) -> dict[str, Any]:
    """The public attributes of a returned object, as a mapping's keys."""
    if is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    names = getattr(value, "_fields", None) or getattr(value, "__dict__", {}).keys()
    found = {str(k): getattr(value, k) for k in names if not str(k).startswith("_")}
    for name in _OUTCOME_FIELDS - {"detail", "conflict"}:
        if name not in found and hasattr(value, name):
            found[name] = getattr(value, name)
    return found


def _at(body: Any, path: tuple[str | int, ...]) -> Any:
    node = body
    for part in path:
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _attribute(value: object, name: str) -> object:
    """``value.name`` or None, read quietly: a library may warn that a name is deprecated
    (aiohttp's ``ClientResponseError.code``), and the client did not ask for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(value, name, None)
