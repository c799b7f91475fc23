"""A small bar chart of a day's activity as a PNG, drawn pixel by pixel (no browser, no plotting library)."""

from __future__ import annotations

import struct
import zlib

_BG = (255, 255, 255)
_BAR = (46, 125, 50)
_NIGHT = (200, 200, 215)
_AXIS = (120, 120, 120)


def activity_png(counts: list[int], *, width: int = 480, height: int = 120) -> bytes:
    """24 bars (one per local hour, 00 to 23), night hours shaded, heights relative to the busiest hour."""
    pixels = [[_BG] * width for _ in range(height)]
    top = max(counts) or 1
    slot = width // len(counts)
    base = height - 6
    for hour, count in enumerate(counts):
        x0 = hour * slot + 1
        colour = _NIGHT if hour < 6 or hour >= 22 else _BAR
        bar = round((base - 4) * count / top)
        for y in range(base - bar, base):
            row = pixels[y]
            for x in range(x0, x0 + slot - 2):
                row[x] = colour
    for x in range(width):
        pixels[base][x] = _AXIS
    for hour in range(0, 24, 6):  # ticks every six hours
        for y in range(base, height):
            pixels[y][hour * slot] = _AXIS
    return _png(pixels, width, height)


def _png(pixels: list[list[tuple[int, int, int]]], width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
