"""Task ids and drawn values, filled in from the contract's patterns with seeded bytes.

A pattern is literal text with ``{created}`` (unix seconds), ``{random:N}`` (N of a-z0-9)
and ``{letters:N}`` (N letters without look-alikes). Each drawn letter takes one byte.

Example::

    fill("task-{created}-{random:4}", b"\\x00\\x01\\x02\\x03", created=7)  # "task-7-abcd"
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from sora_mock.contract import PATTERN_PART

# Byte-to-letter tables: a byte's low five bits pick one of 32 letters, uniformly.
_ALPHABETS = {
    "random": bytes(b"abcdefghijklmnopqrstuvwxyz012345"[i & 31] for i in range(256)),
    "letters": bytes(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh"[i & 31] for i in range(256)),
}
#: Bytes one draw gives a task's values before a seeded generator extends them.
DRAW_BYTES = 8


def fill(pattern: str, data: bytes, created: int = 0) -> str:
    """``pattern`` with its placeholders filled from ``data`` (bytes beyond it are drawn
    from a generator seeded with ``data``)."""
    parts = []
    at = 0
    used = 0
    for found in PATTERN_PART.finditer(pattern):
        parts.append(pattern[at : found.start()])
        at = found.end()
        if found.group(3):
            parts.append(str(created))
            continue
        count = int(found.group(2))
        chunk = _bytes(data, used, count)
        used += count
        parts.append(chunk.translate(_ALPHABETS[found.group(1)]).decode())
    parts.append(pattern[at:])
    return "".join(parts)


def drawn_values(patterns: Mapping[str, str], draw: int, created: int) -> dict[str, str]:
    """The drawn values of a task: each pattern filled in turn from the task's ``draw``."""
    data = draw.to_bytes(DRAW_BYTES, "little")
    values = {}
    for name, pattern in patterns.items():
        values[name] = fill(pattern, data, created)
        data = random.Random(data).randbytes(DRAW_BYTES)  # the next value's bytes
    return values


def _bytes(data: bytes, start: int, count: int) -> bytes:
    if start + count <= len(data):
        return data[start : start + count]
    extra = random.Random(data).randbytes(start + count - len(data))
    return (data + extra)[start : start + count]
