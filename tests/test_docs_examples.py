"""Every marked example output in README.md and docs/*.md is what the code prints today.

A stale block fails here; ``python -m tests.docs_examples --write`` (``make docs-examples``)
puts fresh runs into the markdown.
"""

from __future__ import annotations

import pytest

from tests.docs_examples import DOCS, EXAMPLES, ROOT, SLOW, Block, blocks, normalise

BLOCKS = [block for path in DOCS for block in blocks(path)]


def _id(block: Block) -> str:
    return f"{block.path.relative_to(ROOT)}:{block.name}"


def test_every_marker_names_an_example_and_every_example_is_shown() -> None:
    named = {block.name for block in BLOCKS}
    assert sorted(named - set(EXAMPLES)) == []
    assert sorted(set(EXAMPLES) - named) == []


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, id=_id(b), marks=[pytest.mark.slow] if b.name in SLOW else [])
        for b in BLOCKS
    ],
)
def test_the_example_output_is_what_the_code_prints(block: Block) -> None:
    fresh = EXAMPLES[block.name]()
    assert normalise(block.body) == normalise(fresh), (
        f"{_id(block)} is stale: run python -m tests.docs_examples --write {block.name}"
    )


def test_normalise_keeps_text_and_replaces_what_varies() -> None:
    text = "took 23.3 s; GET /v1/tasks/task-unified-1767917446-s38k1zxd at 127.0.0.1:41873"
    assert normalise(text) == "took N s; GET /v1/tasks/task-unified-ID at 127.0.0.1:PORT"
    assert normalise("body.video_url: absent") == "body.video_url: absent"
