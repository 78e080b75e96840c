"""Searching spec-valid variations with hypothesis for one that breaks the client.

The plain task is run first; a variation *breaks* the client when its run fails a rule the
plain run kept (so a client that polls too fast everywhere is not blamed on a variation).
``hypothesis.find`` then shrinks the first breaking variation to a minimal one, and that
run is what the report shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sora_mock.conformance.rules import Verdict
from sora_mock.conformance.run import Run
from sora_mock.conformance.variations import Variation, variations
from sora_mock.contract import Contract


def explore(
    contract: Contract,
    model: str,
    run_once: Callable[[Variation], Run],
    judge: Callable[[Run], Sequence[Verdict]],
    examples: int,
    budget: float | None = None,
) -> tuple[Run, str]:
    """The run to report and a note on the search.

    Variations are those of a task of ``model``. ``run_once`` runs the client under a
    variation; ``judge`` gives the verdicts of a run.
    ``examples`` bounds the generated variations; ``budget`` (real seconds) bounds the whole
    search, shrinking included: past it, a variation counts as not breaking, which ends the
    search with the smallest breaking variation found so far.
    """
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    baseline = run_once(Variation())
    kept = {v.rule for v in judge(baseline) if not v.failed}
    deadline = None if budget is None else time.monotonic() + budget
    memo: dict[Variation, Run | None] = {}

    def breaks(variation: Variation) -> bool:
        if variation.plain or (deadline is not None and time.monotonic() > deadline):
            return False
        if variation not in memo:
            run = run_once(variation)
            broken = {v.rule for v in judge(run) if v.failed} & kept
            memo[variation] = run if broken else None
        return memo[variation] is not None

    if examples == 0:
        return baseline, "the hypothesis search is off (0 examples); the plain task was run"
    try:
        minimal = find(
            variations(contract, model),
            breaks,
            settings=settings(
                max_examples=examples,
                database=None,
                derandomize=True,
                deadline=None,
                phases=(Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
            ),
        )
    except (NoSuchExample, Unsatisfiable):
        return baseline, (
            f"{len(memo)} generated variations of the task body; none broke the client"
        )
    run = memo[minimal]
    assert run is not None
    changes = "; ".join(minimal.describe())
    return run, (
        f"broken by a generated variation, shrunk to a minimal one ({len(memo)} tried): {changes}"
    )
