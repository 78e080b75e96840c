"""Assertions over the calls a mock answered, failing with a message a person can act on.

Each helper raises :class:`~sora_mock.errors.ContractViolation` (an ``AssertionError``, so
pytest reports a failure) listing every offending call with its mock time, request and
answer, and the field or rule it breaks.

Example::

    assert_poll_interval(api.calls, 1.0)
    # ContractViolation: 1 poll(s) came sooner than 1 s (mock time) after the previous ...
    #   - t=+5s GET /v1/tasks/... -> 200 processing: 0.2 s after the previous poll
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sora_mock.contract import Contract, RequestCheck
from sora_mock.engine import MOCK_PREFIX
from sora_mock.errors import ContractViolation

if TYPE_CHECKING:
    from sora_mock.inprocess.calls import Call


def iter_call_errors(
    call: Call,
    contract: Contract,
    *,
    allow_loopback: bool = False,
    allow_ports: Collection[int] = (),
) -> Iterator[str]:
    """Each way the request of ``call`` breaks the contract or its documented rules.

    ``allow_loopback`` and ``allow_ports`` accept callback receivers as the mock's
    ``callbacks`` settings of the same names do.
    """
    from sora_mock.contract.validation import iter_request_errors

    for error in iter_request_errors(call.request, contract):
        yield _readable(error)
    yield from _rule_errors(call, contract, allow_loopback, allow_ports)


def assert_requests_valid(
    calls: Sequence[Call],
    contract: Contract,
    *,
    allow_loopback: bool = False,
    allow_ports: Collection[int] = (),
) -> None:
    """Fail unless every request (mock-only routes aside) keeps the contract."""
    checked = [c for c in calls if not c.path.startswith(MOCK_PREFIX)]
    origin = _origin(calls)
    lines: list[str] = []
    bad = 0
    for index, call in enumerate(checked, 1):
        found = iter_call_errors(
            call, contract, allow_loopback=allow_loopback, allow_ports=allow_ports
        )
        errors = dict.fromkeys(found)
        bad += bool(errors)
        lines.extend(f"request #{index} ({call.describe(origin)}): {error}" for error in errors)
    if bad:
        raise ContractViolation(
            f"{bad} of {len(checked)} requests break the contract (field: what is wrong)", lines
        )


def assert_polls(calls: Sequence[Call], count: int, task_id: str | None = None) -> None:
    """Fail unless the task (or all tasks) was polled exactly ``count`` times."""
    polls = [c for c in calls if c.is_poll and task_id in (None, c.task_id)]
    if len(polls) == count:
        return
    what = f"task {task_id}" if task_id else "tasks"
    origin = _origin(calls)
    raise ContractViolation(
        f"expected {count} polls of {what}, saw {len(polls)}",
        [c.describe(origin) for c in polls] or ["(no polls at all)"],
    )


def assert_poll_interval(
    calls: Sequence[Call], at_least: float, task_id: str | None = None
) -> None:
    """Fail if a task was polled again sooner than ``at_least`` mock seconds."""
    origin = _origin(calls)
    last: dict[str, float] = {}
    lines = []
    for call in calls:
        if not call.is_poll or task_id not in (None, call.task_id):
            continue
        key = call.task_id or call.path
        previous = last.get(key)
        if previous is not None and call.time - previous < at_least:
            lines.append(
                f"{call.describe(origin)}: {call.time - previous:g} s after the previous poll"
            )
        last[key] = call.time
    if lines:
        raise ContractViolation(
            f"{len(lines)} poll(s) came sooner than {at_least:g} s (mock time) after the "
            "previous poll of the same task",
            lines,
        )


def assert_scenario_reached(calls: Sequence[Call], name: str, known: Sequence[str] = ()) -> None:
    """Fail unless some call was answered under scenario ``name``."""
    seen = sorted({c.scenario for c in calls if c.scenario})
    if name in seen:
        return
    lines = [f"scenarios reached: {', '.join(seen) or 'none'}"]
    if known and name not in known:
        lines.append(f"{name!r} is not a scenario this mock knows: {', '.join(sorted(known))}")
    raise ContractViolation(f"scenario {name!r} was never reached", lines)


def _origin(calls: Sequence[Call]) -> float:
    return calls[0].time if calls else 0.0


def _readable(error: str) -> str:
    # openapi-core names its exception classes; say what the client should change instead.
    if error.startswith("SecurityValidationError"):
        return "Authorization: missing or not a bearer token (the spec requires bearerAuth)"
    if error.startswith(("PathNotFound", "OperationNotFound")):
        return f"no such operation in the contract ({error.split(': ', 1)[-1]})"
    if error.startswith("(body): "):
        return f"body: {error[len('(body): ') :]}"
    return error


def _rule_errors(
    call: Call, contract: Contract, allow_loopback: bool, allow_ports: Collection[int]
) -> Iterator[str]:
    """What the contract's own rules (the ``x-sora-mock`` extension and the task id's
    schema) say of the request, beyond what openapi-core reports."""
    if call.is_poll:
        yield from _task_id_errors(call, contract)
        return
    if not call.is_create:
        return
    body = _json(call.request.body)
    if not isinstance(body, dict):
        return
    check = _request_check(contract)
    model = check.model_of(body)
    if model is None:
        return  # openapi-core reports the model field
    # A plain schema error is openapi-core's to report; the extension's rules, with their own
    # messages, are ours. Each ruled field is checked alone, in the model's documented
    # example, so that one field's mistake does not hide another's.
    base = model.example if model.example is not None else body
    for field in model.rules:
        if field not in body:
            continue
        problem = check.problem(
            {**base, field: body[field]}, allow_loopback=allow_loopback, allow_ports=allow_ports
        )
        if problem is not None and problem.param == field:
            yield f"{field}: {problem.message}"


def _task_id_errors(call: Call, contract: Contract) -> Iterator[str]:
    tasks = contract.tasks
    found = contract.match(call.method, call.path).path_params.get(tasks.id_parameter)
    if found is None:
        return
    validator = contract.parameter_validator(tasks.read, tasks.id_parameter)
    if validator.is_valid(found):
        return
    prefix = tasks.id_prefix
    if prefix and not found.startswith(prefix):
        yield f"{tasks.id_parameter}: {found!r} does not start with {prefix!r}"
    else:
        error = next(iter(validator.iter_errors(found)))
        yield f"{tasks.id_parameter}: {error.message}"


_checks: weakref.WeakKeyDictionary[Contract, RequestCheck] = weakref.WeakKeyDictionary()


def _request_check(contract: Contract) -> RequestCheck:
    """The contract's request check, compiled once per contract."""
    check = _checks.get(contract)
    if check is None:
        check = _checks[contract] = RequestCheck(contract)
    return check


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
