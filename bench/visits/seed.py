"""The visits benchmark's organisation: homes with four visits a day each for a year and the two weeks
ahead, their carers, tasks, check-ins and check-outs and verdicts, inserted by SQL (generate_series) in a
few statements, in time order as a live system writes them (visits materialised day by day, events as
they happen: a month's rows lie together on disk, as they would); the outcomes (late, short, missed,
cancelled, phone or tag) come from a hash of each visit, so a run is the same for the same day."""

from __future__ import annotations

import time
from datetime import date, timedelta
from uuid import UUID

import asyncpg

ZONE = "Europe/London"

# One row per (home, day, slot); r is a stable pseudo-random 0..9999 per visit.
_VISITS = """
CREATE TEMP TABLE bench_homes AS
    SELECT h.id, h.organisation_id, p.id AS plan_id, (row_number() OVER (ORDER BY h.name)) - 1 AS n
    FROM homes h JOIN care_plans p ON p.home_id = h.id WHERE h.organisation_id = '{org}';
CREATE TEMP TABLE bench_carers AS
    SELECT id, (row_number() OVER (ORDER BY email)) - 1 AS n FROM users
    WHERE role = 'carer' AND organisation_id = '{org}';
INSERT INTO visits (organisation_id, home_id, plan_id, occurrence_date, service_type, local_date,
                    planned_start, planned_end, status, status_reason, checked_in_at, checked_out_at,
                    check_in_method, check_out_method, checked_in_by)
SELECT h.organisation_id, h.id, h.plan_id, d, 'personal_care', d, t.ps,
       t.ps + s.minutes * interval '1 minute',
       CASE WHEN o.phase = 'future' THEN 'planned'
            WHEN o.r < 300 THEN CASE WHEN o.phase = 'past' THEN 'missed' ELSE 'planned' END
            WHEN o.r < 400 THEN 'cancelled'
            WHEN o.phase = 'now' AND o.check_in + s.minutes * interval '1 minute' > now() THEN 'in_progress'
            ELSE 'completed' END,
       CASE WHEN o.phase <> 'future' AND o.r >= 300 AND o.r < 400 THEN 'client in hospital' ELSE '' END,
       CASE WHEN o.phase <> 'future' AND o.r >= 400 THEN o.check_in END,
       CASE WHEN o.phase <> 'future' AND o.r >= 400
                 AND (o.phase = 'past' OR o.check_in + s.minutes * interval '1 minute' <= now())
            THEN o.check_in + s.minutes * (0.6 + (o.r % 50) / 100.0) * interval '1 minute' END,
       CASE WHEN o.phase <> 'future' AND o.r >= 400 THEN o.method END,
       CASE WHEN o.phase <> 'future' AND o.r >= 400
                 AND (o.phase = 'past' OR o.check_in + s.minutes * interval '1 minute' <= now())
            THEN o.method END,
       CASE WHEN o.phase <> 'future' AND o.r >= 400 THEN ARRAY[c.id] ELSE '{{}}'::uuid[] END
FROM bench_homes h
CROSS JOIN generate_series('{first}'::date, '{last}'::date, interval '1 day') AS g(day)
CROSS JOIN LATERAL (SELECT g.day::date AS d) dd
CROSS JOIN (VALUES (0, time '07:30', 45), (1, time '12:00', 30), (2, time '17:00', 30),
                   (3, time '20:00', 30)) AS s(slot, at, minutes)
CROSS JOIN LATERAL (
    SELECT ((d + s.at + (h.n % 40) * interval '1 minute') AT TIME ZONE '{zone}') AS ps) t
CROSS JOIN LATERAL (
    SELECT abs(hashtext(h.id::text || d::text || s.slot)) % 10000 AS r) q
CROSS JOIN LATERAL (
    SELECT t.ps + ((q.r / 7) % 25 - 6) * interval '1 minute' AS check_in) ci
CROSS JOIN LATERAL (
    -- future: nobody has come yet (a visit due now whose carer is still on the way is planned too)
    SELECT q.r, ci.check_in,
           CASE WHEN t.ps > now() OR (t.ps + interval '3 hours' > now() AND ci.check_in > now())
                THEN 'future'
                WHEN t.ps + interval '3 hours' > now() THEN 'now' ELSE 'past' END AS phase,
           CASE WHEN q.r % 10 = 0 THEN 'phone' ELSE 'tag' END AS method) o
JOIN bench_carers c ON c.n = (h.n / 2 + extract(hour FROM t.ps)::int + (extract(dow FROM d)::int % 2) * 3)
                             % {carers}
ORDER BY t.ps;
"""

_REST = """
INSERT INTO visit_assignments (visit_id, carer_id, assigned_at)
SELECT v.id, c.id, v.planned_start - interval '14 days'
FROM visits v JOIN bench_homes h ON h.id = v.home_id
JOIN bench_carers c ON c.n = (h.n / 2 + extract(hour FROM v.planned_start)::int
                              + (extract(dow FROM v.local_date)::int % 2) * 3) % {carers}
ORDER BY v.planned_start;
INSERT INTO visit_tasks (visit_id, position, task, status, recorded_at)
SELECT v.id, t.position, t.task,
       CASE WHEN v.status = 'completed' THEN 'done' ELSE 'pending' END,
       CASE WHEN v.status = 'completed' THEN v.checked_out_at END
FROM visits v CROSS JOIN (VALUES (0, 'medication'), (1, 'personal care')) AS t(position, task)
WHERE v.organisation_id = '{org}' ORDER BY v.planned_start;
INSERT INTO visit_events (visit_id, home_id, organisation_id, carer_id, kind, method, event_time,
                          arrival_time, accepted, actor_kind, actor_name, latitude, longitude, accuracy_m,
                          distance_m)
SELECT v.id, v.home_id, v.organisation_id, a.carer_id, k.kind, v.check_in_method, k.at, k.at, true,
       CASE WHEN v.check_in_method = 'tag' THEN 'device' ELSE 'user' END, '',
       CASE WHEN v.check_in_method = 'phone' THEN h.latitude END,
       CASE WHEN v.check_in_method = 'phone' THEN h.longitude END,
       CASE WHEN v.check_in_method = 'phone' THEN 12 END, CASE WHEN v.check_in_method = 'phone' THEN 8 END
FROM visits v JOIN homes h ON h.id = v.home_id JOIN visit_assignments a ON a.visit_id = v.id
CROSS JOIN LATERAL (VALUES ('check_in', v.checked_in_at), ('check_out', v.checked_out_at)) AS k(kind, at)
WHERE v.organisation_id = '{org}' AND k.at IS NOT NULL ORDER BY k.at;
INSERT INTO visit_verifications (visit_id, verdict, reasons, evidence, computed_at)
SELECT v.id,
       CASE WHEN v.status = 'missed' THEN 'missed'
            WHEN r < 8500 THEN 'verified' WHEN r < 9600 THEN 'verified_with_exceptions'
            ELSE 'unverified' END,
       CASE WHEN v.status = 'missed' THEN '["nobody checked in"]'::jsonb
            WHEN r < 8500 THEN '["the front door opened at the check-in", "movement during the visit"]'
            WHEN r < 9600 THEN '["checked in late"]' ELSE '["the front door did not open"]' END,
       jsonb_build_object('corroborated', v.status = 'completed' AND r < 9600),
       COALESCE(v.checked_out_at, v.planned_end) + interval '10 minutes'
FROM visits v CROSS JOIN LATERAL (SELECT abs(hashtext(v.id::text)) % 10000 AS r) q
WHERE v.organisation_id = '{org}' AND v.status IN ('completed', 'missed') ORDER BY v.planned_start;
"""


async def seed_organisation(
    conn: asyncpg.Connection, *, homes: int, carers: int, days: int, today: date
) -> tuple[UUID, int]:
    """The organisation (and a small other one), `days` of history and two weeks ahead; (id, visits)."""
    started = time.monotonic()
    org = await conn.fetchval("INSERT INTO organisations (name) VALUES ('Bench provider') RETURNING id")
    other = await conn.fetchval("INSERT INTO organisations (name) VALUES ('Other provider') RETURNING id")
    sizes = ((org, homes, carers), (other, max(1, homes // 20), max(1, carers // 20)))
    for organisation, count, people in sizes:
        await conn.execute(
            f"""
            INSERT INTO homes (organisation_id, name, timezone, latitude, longitude, geofence_m)
            SELECT '{organisation}', 'Home ' || lpad(h::text, 5, '0'), '{ZONE}',
                   51.40 + (h % 100) * 0.001, -0.30 + (h / 100) * 0.001, 150
            FROM generate_series(1, {count}) h;
            INSERT INTO care_plans (home_id, organisation_id, name, starts_on)
            SELECT id, organisation_id, 'Four visits a day', '{today - timedelta(days=days)}'
            FROM homes WHERE organisation_id = '{organisation}';
            INSERT INTO users (email, name, role, organisation_id)
            SELECT 'carer' || c || '.{organisation}@bench.example', 'Carer ' || c, 'carer', '{organisation}'
            FROM generate_series(1, {people}) c;
            """
        )
    first, last = today - timedelta(days=days), today + timedelta(days=13)
    for organisation, _, people in sizes:
        fill = {"org": organisation, "first": first, "last": last, "zone": ZONE, "carers": people}
        await conn.execute(_VISITS.format(**fill) + _REST.format(**fill))
        await conn.execute("DROP TABLE bench_homes; DROP TABLE bench_carers")
    await conn.execute("VACUUM ANALYZE")
    visits = await conn.fetchval("SELECT count(*) FROM visits WHERE organisation_id = $1", org)
    print(f"seeded {visits} visits in {time.monotonic() - started:.1f}s", flush=True)
    return org, int(visits)
