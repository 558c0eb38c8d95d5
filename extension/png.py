"""Writes the extension's 64×64 `icon.png` with the standard library only (zlib + struct)."""

from __future__ import annotations

import struct
import zlib

SIZE = 64
_BACKGROUND = (0, 95, 131)  # the Handover node's colour
_FOREGROUND = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """A rounded square with two speech bubbles (bot and agent); transparent outside the corners."""
    r = 12
    cx, cy = min(max(x, r), SIZE - 1 - r), min(max(y, r), SIZE - 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    left = (10 <= x <= 36 and 14 <= y <= 32) or (14 <= x <= 18 and 32 < y <= 38)
    right = (28 <= x <= 54 and 34 <= y <= 50) or (46 <= x <= 50 and 50 < y <= 56)
    return (*(_FOREGROUND if left or right else _BACKGROUND), 255)


def icon_png() -> bytes:
    """The PNG bytes: 64×64, 8-bit RGBA."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(SIZE) for v in _pixel(x, y)) for y in range(SIZE)
    )
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )
