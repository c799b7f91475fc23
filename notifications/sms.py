"""SMS length: GSM-7 or UCS-2, and how many segments a text takes (a message must fit in one or two)."""

from __future__ import annotations

import unicodedata

# The GSM 03.38 basic set (one septet each) and its extension table (two septets each).
_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = set("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    """Whether the text can be sent in the GSM 7-bit alphabet."""
    return all(c in _BASIC or c in _EXTENDED for c in text)


def segments(text: str) -> int:
    """How many SMS segments the text takes (160/153 septets in GSM-7, 70/67 characters in UCS-2)."""
    if is_gsm7(text):
        units = sum(2 if c in _EXTENDED else 1 for c in text)
        single, part = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def to_gsm7(text: str) -> str:
    """The text in GSM-7 where it can be: accents dropped from letters the alphabet lacks, others replaced."""
    out = []
    for c in text:
        if c in _BASIC or c in _EXTENDED:
            out.append(c)
            continue
        plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
        out.append(plain if plain else "?")
    return "".join(out)


def shorten(text: str, limit: int) -> str:
    """The text cut to at most `limit` characters, marked with '...' when cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 1)].rstrip() + "..."
