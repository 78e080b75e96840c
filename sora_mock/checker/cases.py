"""The requests a check sends, drawn from the contract's strategies, and their labels.

Every request comes from :mod:`sora_mock.contract.strategies`: valid create bodies (each
model's documented examples first), invalid ones breaking one thing each with the answer
the contract prescribes, and malformed or unknown task ids. What is the checker's own is
the grouping: one group per thing an invalid request can break (a field of a model, or
the body as a whole) and one per kind of task id, so that trying the simplest example of
each group probes every field readably; whether a callback field is probed; and the label
each probe carries in reports.

Example::

    cases = RequestCases(Contract.bundled())
    groups = cases.invalid_groups(callbacks=False)  # one strategy per field and kind
    cases.invalid_label(case)  # "create invalid: span_violation (timestamps)"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sora_mock.contract import Contract, Operation

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from sora_mock.contract.strategies import InvalidCreate, InvalidTarget, TaskIdCase

__all__ = ["RequestCases", "error_code"]


@dataclass(frozen=True)
class RequestCases:
    """The groups of requests a check sends, for one contract (see the module's docstring).

    Hypothesis is imported when a strategy is first asked for, not with the checker.
    """

    contract: Contract

    @property
    def create_path(self) -> str:
        """The path of the create operation."""
        return self.contract.tasks.create.path

    def task_path(self, task_id: str) -> str:
        """The path that reads the task ``task_id``."""
        tasks = self.contract.tasks
        return tasks.read.path.replace(f"{{{tasks.id_parameter}}}", task_id)

    def valid(self, model: str | None = None) -> SearchStrategy[dict[str, Any]]:
        """Valid create bodies of ``model`` (default: every model), its example first."""
        from sora_mock.contract import strategies

        return strategies.valid_create_bodies(self.contract, model)

    def invalid_groups(self, *, callbacks: bool) -> list[SearchStrategy[InvalidCreate]]:
        """Invalid create requests, one group per field of a model and kind (then one per
        kind breaking the body as a whole). ``callbacks`` False leaves out a model's
        callback field: the spec may make it the mock's own choice, which another server is
        free to ignore."""
        from sora_mock.contract import strategies

        return [
            strategies.invalid_create_requests(
                (target.kind,), self.contract, target.model, target.field
            )
            for target in strategies.invalid_create_targets(self.contract)
            if callbacks or not self._on_callback(target)
        ]

    def invalid(self, *, callbacks: bool) -> SearchStrategy[InvalidCreate]:
        """Every group of :meth:`invalid_groups` as one strategy."""
        from hypothesis import strategies as st

        return st.one_of(self.invalid_groups(callbacks=callbacks))

    def id_groups(self) -> list[SearchStrategy[TaskIdCase]]:
        """Task ids the read refuses, one group per kind the contract offers (``malformed``
        unless the id parameter accepts any id, then ``unknown``)."""
        from sora_mock.contract import strategies

        return [
            strategies.task_id_cases((kind,), self.contract)
            for kind in strategies.task_id_kinds(self.contract)
        ]

    def unknown_ids(self) -> SearchStrategy[str]:
        """Well-formed task ids no server issued."""
        from sora_mock.contract import strategies

        return strategies.unknown_task_ids(self.contract)

    @staticmethod
    def invalid_label(case: InvalidCreate) -> str:
        """The label of an invalid create probe: its kind, and the field it breaks."""
        broken = f" ({case.param})" if case.param is not None else ""
        return f"create invalid: {case.kind}{broken}"

    def _on_callback(self, target: InvalidTarget) -> bool:
        model = self.contract.tasks.models.get(target.model or "")
        return model is not None and target.field == model.callback_field


def error_code(operation: Operation, status: int) -> str | None:
    """The error code the contract documents for ``status`` of ``operation``, if any."""
    documented = operation.errors.get(status)
    return None if documented is None else documented.code
