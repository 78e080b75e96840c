"""Task ids and drawn values, filled in from the contract's patterns with seeded bytes.

A pattern is literal text with ``{created}`` (unix seconds), ``{random:N}`` (N of a-z0-9)
and ``{letters:N}`` (N letters without look-alikes). Each drawn letter takes one byte.

Example::

    fill("task-{created}-{random:4}", b"\\x00\\x01\\x02\\x03", created=7)  # "task-7-abcd"
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass

from sora_mock.contract import PATTERN_PART

# Byte-to-letter tables: a byte's low five bits pick one of 32 letters, uniformly.
_ALPHABETS = {
    "random": bytes(b"abcdefghijklmnopqrstuvwxyz012345"[i & 31] for i in range(256)),
    "letters": bytes(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh"[i & 31] for i in range(256)),
}
#: Bytes one draw gives a task's values before a seeded generator extends them.
DRAW_BYTES = 8


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A pattern as ``str.format`` text (``{created}`` kept, each draw a ``{}``) and the
    alphabet and length of each draw."""

    text: str
    draws: tuple[tuple[bytes, int], ...]


def fill(pattern: str, data: bytes, created: int = 0) -> str:
    """``pattern`` with its placeholders filled from ``data`` (bytes beyond it are drawn
    from a generator seeded with ``data``)."""
    compiled = _compiled(pattern)
    letters = []
    used = 0
    for alphabet, count in compiled.draws:
        letters.append(_bytes(data, used, count).translate(alphabet).decode())
        used += count
    return compiled.text.format(*letters, created=created)


def drawn_values(patterns: Mapping[str, str], draw: int, created: int) -> dict[str, str]:
    """The drawn values of a task: each pattern filled in turn from the task's ``draw``."""
    data = draw.to_bytes(DRAW_BYTES, "little")
    values: dict[str, str] = {}
    for name, pattern in patterns.items():
        if values:  # the next value's bytes
            data = random.Random(data).randbytes(DRAW_BYTES)
        values[name] = fill(pattern, data, created)
    return values


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> _Compiled:
    pieces = []
    draws = []
    at = 0
    for found in PATTERN_PART.finditer(pattern):
        pieces.append(pattern[at : found.start()].replace("{", "{{").replace("}", "}}"))
        at = found.end()
        if found.group(3):
            pieces.append("{created}")
        else:
            pieces.append("{}")
            draws.append((_ALPHABETS[found.group(1)], int(found.group(2))))
    pieces.append(pattern[at:].replace("{", "{{").replace("}", "}}"))
    return _Compiled("".join(pieces), tuple(draws))


def _bytes(data: bytes, start: int, count: int) -> bytes:
    if start + count <= len(data):
        return data[start : start + count]
    extra = random.Random(data).randbytes(start + count - len(data))
    return (data + extra)[start : start + count]
