"""Passwords: the rules a new one must meet (NIST SP 800-63B), and argon2id hashes of them.

Hashing and the strength estimate run in a thread because they are deliberately (or unavoidably) slow.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Sequence
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from accounts.errors import InvalidInput

_hasher = PasswordHasher()

# SP 800-63B-4: at least 15 characters where the password is the only factor, accept at least 64.
MIN_LENGTH = 15
MAX_LENGTH = 1000
# zxcvbn's 3: about 10^8 guesses or more, past its dictionaries of common passwords, words, names,
# keyboard walks, dates, sequences and repeats.
MIN_SCORE = 3
# zxcvbn's matching grows quickly with length; a prefix this long that is hard to guess is enough.
_SCORED = 100


def weakness(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why this password may not be chosen, or None; user_inputs (email, name) count as guessable."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters (a few words make a good one)"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        return "a password may not contain control characters (such as NUL, tab or a line break)"
    result = zxcvbn(password[:_SCORED], user_inputs=list(user_inputs), max_length=_SCORED)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip()
    return f"this password is too easy to guess: {advice or 'add another word or two.'}"


def check_new_password(password: str, *, user_inputs: Sequence[str] = ()) -> None:
    """InvalidInput with the reason unless the password may be chosen."""
    reason = weakness(password, user_inputs=user_inputs)
    if reason is not None:
        raise InvalidInput(reason)


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash (False when there is none)."""
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy() -> str:
    # Verified against when the username is unknown, so that the answer takes as long either way; made
    # on first use, not at import (argon2 takes 64 MiB, and most processes never log anyone in).
    return _hasher.hash("not a real password")


def _checked_hash(password: str, user_inputs: Sequence[str]) -> str:
    check_new_password(password, user_inputs=user_inputs)
    return hash_password(password)


async def hash_new_password(password: str, *, user_inputs: Sequence[str] = ()) -> str:
    """The hash of a password being set, after check_new_password (the one way a password is set)."""
    return await asyncio.to_thread(_checked_hash, password, user_inputs)


async def verify_async(stored: str | None, password: str) -> bool:
    """verify_password off the event loop."""
    return await asyncio.to_thread(verify_password, stored, password)
