"""The pytest helper: one test case per situation.

Example (in a test module)::

    from sora_mock.conformance import conformance_tests

    def my_client(target):
        return my_sdk.generate(target.base_url, target.api_key, target.body)

    test_my_client = conformance_tests(my_client)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sora_mock.conformance.runner import ClientFunction, Harness
from sora_mock.conformance.situations import Situation


def conformance_tests(
    client: ClientFunction, situations: Sequence[str] | None = None, **options: Any
) -> Callable[[Situation], None]:
    """A pytest test function parametrized over the situations (globs; default all).

    Assign it to a ``test_*`` name in a test module. A broken rule fails its situation's
    test with the rule, the message and the requests the client sent. ``options`` are
    those of :class:`~sora_mock.conformance.Harness`.
    """
    import pytest

    harness = Harness(**options)
    chosen = harness.situations(situations)

    @pytest.mark.parametrize("sora_situation", chosen, ids=[s.name for s in chosen])
    def test_conformance(sora_situation: Situation) -> None:
        harness.check_situation(client, sora_situation).raise_for_failures()

    return test_conformance
