"""Password hashes (argon2id); hashing runs in a thread because it is deliberately slow."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10


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


async def hash_async(password: str) -> str:
    """hash_password off the event loop."""
    return await asyncio.to_thread(hash_password, password)


async def verify_async(stored: str | None, password: str) -> bool:
    """verify_password off the event loop."""
    return await asyncio.to_thread(verify_password, stored, password)
