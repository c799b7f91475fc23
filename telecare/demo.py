"""Demo accounts for `telecare run`: a coordinator and a family member for the first simulated home, and a
login for one of its simulated carers."""

from __future__ import annotations

import asyncpg

from accounts import queries
from accounts.passwords import hash_password
from accounts.service import create_user
from accounts.tenancy import Role
from homes import queries as home_queries
from simulators.care_team import carer_email

ADMIN_EMAIL = "admin@demo.example"
COORDINATOR_EMAIL = "coordinator@demo.example"
FAMILY_EMAIL = "family@demo.example"
CARER_EMAIL = carer_email(1, 1)  # the first carer of the first simulated home's team


async def seed_demo_accounts(pool: asyncpg.Pool, *, password: str) -> bool:
    """Once a home exists, give its organisation a coordinator and its circle a family member.

    Returns False while there is no home yet; accounts that exist are left as they are.
    """
    async with pool.acquire() as conn, conn.transaction():
        home = await conn.fetchrow("SELECT id, organisation_id FROM homes ORDER BY created_at, id LIMIT 1")
        if home is None:
            return False
        if await queries.get_login(conn, email=COORDINATOR_EMAIL) is None:
            await create_user(
                conn,
                email=COORDINATOR_EMAIL,
                name="Demo Coordinator",
                role=Role.COORDINATOR,
                organisation_id=home["organisation_id"],
                password=password,
            )
        family = await queries.get_login(conn, email=FAMILY_EMAIL)
        if family is None:
            created = await create_user(
                conn,
                email=FAMILY_EMAIL,
                name="Demo Daughter",
                role=Role.FAMILY,
                organisation_id=home["organisation_id"],
                password=password,
            )
            await home_queries.upsert_circle(
                conn, home_id=home["id"], user_id=created.id, relationship="daughter", receives_alerts=True
            )
    return True


async def seed_demo_carer(pool: asyncpg.Pool, *, password: str) -> bool:
    """Give the first simulated home's first carer the demo password; False while they do not exist yet."""
    async with pool.acquire() as conn, conn.transaction():
        carer = await queries.get_login(conn, email=CARER_EMAIL)
        if carer is None:
            return False
        if carer["password_hash"] is None:
            await queries.set_password(conn, user_id=carer["id"], password_hash=hash_password(password))
    return True
