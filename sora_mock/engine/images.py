"""A small real PNG for a task's picture files, made without any image library."""

from __future__ import annotations

import hashlib
import struct
import zlib

SIZE = 64


def png_picture(seed: str) -> bytes:
    """A 64x64 RGB PNG whose colours derive from ``seed`` (the same seed, the same bytes)."""
    digest = hashlib.sha256(seed.encode()).digest()
    background, face = digest[0:3], digest[3:6]
    rows = []
    centre = SIZE / 2
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(SIZE):
            inside = (x - centre) ** 2 + (y - centre * 0.9) ** 2 < (SIZE * 0.3) ** 2
            row += face if inside else background
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", raw) + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
