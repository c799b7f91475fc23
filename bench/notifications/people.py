"""The benchmark's people, contact points and policy, inserted with plain SQL (as bench.ingest's devices)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import orjson


async def family_for(conn: asyncpg.Connection, homes: list[UUID], *, per_home: int, prefix: str) -> None:
    """`per_home` family members in each home's circle, each with a verified email <prefix>-<home>-<n>@."""
    org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", homes[0])
    pairs = [(h, n) for h in homes for n in range(per_home)]
    users = await conn.fetch(
        """
        INSERT INTO users (email, name, role, organisation_id)
        SELECT e, 'Family ' || e, 'family', $2 FROM unnest($1::text[]) e RETURNING id, email
        """,
        [f"{prefix}-{h}-{n}@bench.example" for h, n in pairs],
        org,
    )
    by_email = {r["email"]: r["id"] for r in users}
    ids = [by_email[f"{prefix}-{h}-{n}@bench.example"] for h, n in pairs]
    await conn.execute(
        """
        INSERT INTO care_circles (home_id, user_id, relationship)
        SELECT * , 'family' FROM unnest($1::uuid[], $2::uuid[])
        """,
        [h for h, _ in pairs],
        ids,
    )
    await conn.execute(
        """
        INSERT INTO notification_contact_points (user_id, channel, address, verified_at)
        SELECT u, 'email', e, now() FROM unnest($1::uuid[], $2::text[]) AS t(u, e)
        """,
        ids,
        [f"{prefix}-{h}-{n}@bench.example" for h, n in pairs],
    )


async def default_policy(conn: asyncpg.Connection, *, organisation_id: UUID, webhook_url: str | None) -> None:
    """The organisation's default: the circle by email, and the alarm receiving centre's webhook, at once."""
    targets: list[dict[str, str]] = [{"kind": "circle"}]
    if webhook_url:
        point = await conn.fetchval(
            """
            INSERT INTO notification_contact_points (organisation_id, channel, address, secret, verified_at)
            VALUES ($1, 'webhook', $2, $3::text::jsonb, now()) RETURNING id
            """,
            organisation_id,
            webhook_url,
            orjson.dumps({"signing_secret": "bench-secret"}).decode(),
        )
        targets.append({"kind": "webhook", "id": str(point)})
    steps = [{"targets": targets, "channels": ["email", "webhook"], "wait_s": 300}]
    await conn.execute(
        "INSERT INTO notification_policies (organisation_id, steps) VALUES ($1, $2::text::jsonb)",
        organisation_id,
        orjson.dumps(steps).decode(),
    )
