"""Access tokens and password hashes, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from accounts.errors import NotAuthenticated
from accounts.passwords import hash_password, verify_password
from accounts.tenancy import Role
from accounts.tokens import digest, issue_access, new_secret, read_access

SECRET = "s" * 40


def test_an_access_token_carries_who_and_what() -> None:
    user, org, session = uuid4(), uuid4(), uuid4()
    token = issue_access(
        SECRET,
        user_id=user,
        role=Role.CARER,
        organisation_id=org,
        name="Sam",
        session_id=session,
        lifetime=timedelta(minutes=5),
    )
    claims = read_access(SECRET, token)
    assert (claims.user_id, claims.role, claims.organisation_id, claims.name, claims.session_id) == (
        user,
        Role.CARER,
        org,
        "Sam",
        session,
    )
    assert claims.expires_at > datetime.now(UTC)


@pytest.mark.parametrize(
    "damage", ["expired", "tampered", "other-secret", "not-a-jwt", "wrong-type", "no-session", "none-alg"]
)
def test_a_bad_access_token_is_refused(damage: str) -> None:
    good = issue_access(
        SECRET,
        user_id=uuid4(),
        role=Role.FAMILY,
        organisation_id=None,
        name="x",
        session_id=uuid4(),
        lifetime=timedelta(minutes=5),
    )
    match damage:
        case "expired":
            token = issue_access(
                SECRET,
                user_id=uuid4(),
                role=Role.FAMILY,
                organisation_id=None,
                name="x",
                session_id=uuid4(),
                lifetime=timedelta(minutes=5),
                now=datetime.now(UTC) - timedelta(hours=1),
            )
        case "tampered":
            header, _, signature = good.split(".")
            claims = jwt.decode(good, options={"verify_signature": False}) | {"role": "platform_admin"}
            forged = jwt.encode(claims, "g" * 40, algorithm="HS256").split(".")[1]
            token = f"{header}.{forged}.{signature}"
        case "other-secret":
            token = jwt.encode(
                jwt.decode(good, options={"verify_signature": False}), "x" * 40, algorithm="HS256"
            )
        case "not-a-jwt":
            token = "tcr_not-a-jwt"
        case "wrong-type":
            claims = jwt.decode(good, options={"verify_signature": False}) | {"typ": "refresh"}
            token = jwt.encode(claims, SECRET, algorithm="HS256")
        case "no-session":
            # Signed with the right key but bound to no login: nothing could revoke it.
            claims = jwt.decode(good, options={"verify_signature": False})
            del claims["sid"]
            token = jwt.encode(claims, SECRET, algorithm="HS256")
        case _:
            claims = jwt.decode(good, options={"verify_signature": False})
            token = jwt.encode(claims, "", algorithm="none")
    with pytest.raises(NotAuthenticated):
        read_access(SECRET, token)


def test_passwords_are_salted_argon2_and_verified() -> None:
    first, second = hash_password("a long password"), hash_password("a long password")
    assert first != second and first.startswith("$argon2id$")
    assert verify_password(first, "a long password")
    assert not verify_password(first, "a long passworD")
    assert not verify_password(None, "a long password")
    assert not verify_password("not a hash", "a long password")


def test_opaque_secrets_are_random_and_stored_as_digests() -> None:
    one, two = new_secret("tcr_"), new_secret("tcr_")
    assert one != two and one.startswith("tcr_") and len(one) > 40
    assert digest(one) == digest(one) != digest(two) and len(digest(one)) == 32
