"""The rules of visits: who sees a visit, who may check in to it, record its tasks or reassign it.

A visit outside the caller's scope does not exist for them; a carer sees only the visits they are assigned
to (another carer's visit at the same home answers exactly as a missing one). Family members see their
relative's visits, in a narrower shape (views.family_view), and change nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from accounts.members import member_of, visible_user
from accounts.tenancy import Role, Viewer
from homes.service import visible_home
from visits import assignment_queries, event_queries, log_queries, plan_queries, plans, queries, tag_queries
from visits.checkins import Check, CheckConfig, Fix, Who, apply_check, location_flags, timing_flags
from visits.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from visits.schemas import ManualEntryIn, PhoneCheckIn, TagIn, TaskIn, VisitCarersIn

# How far an offline phone's event time may lie before the visit, and after the clock (phone clock skew).
_EARLIEST = timedelta(hours=12)
_SKEW = timedelta(minutes=5)


def visit_not_found(visit_id: UUID) -> NotFound:
    """The one answer for a visit that does not exist, is another tenant's, or another carer's."""
    return NotFound(f"visit {visit_id} not found")


def _who(caller: Viewer) -> Who:
    p = caller.principal
    return Who("user" if p.kind == "user" else "api_key", p.id, p.name)


async def visible_visit(conn: asyncpg.Connection, caller: Viewer, visit_id: UUID) -> asyncpg.Record:
    """The visit (queries.VISIT_COLUMNS) if the caller may see it; NotFound otherwise."""
    row = await queries.scoped_visit(conn, visit_id=visit_id, scope=caller.scope)
    if row is None:
        raise visit_not_found(visit_id)
    p = caller.principal
    if p.role is Role.CARER and str(p.id) not in {c["id"] for c in row["carers"]}:
        raise visit_not_found(visit_id)
    return row


async def staff_visit(conn: asyncpg.Connection, caller: Viewer, visit_id: UUID) -> asyncpg.Record:
    """The visit in full (events, flags, carers' ids) for the provider's people; family members see
    their relative's visits through the home (home_visits), without the carers' check-in details."""
    row = await visible_visit(conn, caller, visit_id)
    if caller.principal.role is Role.FAMILY:
        raise Forbidden("family members see visits through GET /v1/homes/{home_id}/visits")
    return row


async def _carer_own(conn: asyncpg.Connection, caller: Viewer, visit_id: UUID) -> asyncpg.Record:
    await visible_visit(conn, caller, visit_id)
    if caller.principal.role is not Role.CARER:
        raise Forbidden("only the visit's carer checks in or out by phone; coordinators enter it by hand")
    locked = await queries.get_visit(conn, visit_id=visit_id, for_update=True)
    assert locked is not None
    if locked["status"] == "cancelled":
        raise InvalidState(f"the visit was cancelled: {locked['status_reason'] or 'no reason given'}")
    return locked


async def phone_check(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    visit_id: UUID,
    kind: str,
    body: PhoneCheckIn,
    config: CheckConfig,
    now: datetime,
) -> asyncpg.Record:
    """A carer's phone checks in or out of their visit; the event as recorded, with its flags."""
    visit = await _carer_own(conn, caller, visit_id)
    event_time = body.event_time or now
    if event_time > now + _SKEW:
        raise InvalidInput("event_time is in the future: check the phone's clock")
    if event_time < visit["planned_start"] - _EARLIEST:
        raise InvalidInput("event_time is more than 12 h before the visit's planned start")
    home = await event_queries.home_of(conn, home_id=visit["home_id"])
    assert home is not None
    fix = None
    if body.latitude is not None and body.longitude is not None:
        fix = Fix(body.latitude, body.longitude, body.accuracy_m)
    check = Check(
        kind=kind,
        method="phone",
        carer_id=caller.principal.id,
        event_time=event_time,
        arrival_time=now,
        actor=_who(caller),
        carer_name=caller.principal.name,
        fix=fix,
    )
    flags, distance = location_flags(fix, home, config)
    flags += timing_flags(check, config)
    event = await apply_check(
        conn, home=home, visit=visit, check=check, flags=flags, accepted=True, now=now, distance=distance
    )
    assert event is not None  # only a tag reading is ever recorded twice
    return event


async def manual_entry(
    conn: asyncpg.Connection, caller: Viewer, *, visit_id: UUID, body: ManualEntryIn, now: datetime
) -> asyncpg.Record:
    """A coordinator enters a check-in or check-out by hand, with the reason; flagged manual."""
    row = await visible_visit(conn, caller, visit_id)
    caller.require_manager(row["organisation_id"])
    visit = await queries.get_visit(conn, visit_id=visit_id, for_update=True)
    assert visit is not None
    if visit["status"] == "cancelled":
        raise InvalidState("the visit was cancelled")
    carer = await member_of(
        conn, caller, body.carer_id, organisation_id=row["organisation_id"], roles=(Role.CARER,)
    )
    if body.carer_id not in await assignment_queries.assigned_carers(conn, visit_id=visit_id):
        raise InvalidInput(f"carer {body.carer_id} is not assigned to this visit; assign them first")
    if body.event_time > now + _SKEW:
        raise InvalidInput("event_time is in the future")
    home = await event_queries.home_of(conn, home_id=visit["home_id"])
    assert home is not None
    check = Check(
        kind=body.kind,
        method="manual",
        carer_id=body.carer_id,
        event_time=body.event_time,
        arrival_time=now,
        actor=_who(caller),
        carer_name=carer["name"],
        reason=body.reason,
    )
    event = await apply_check(
        conn, home=home, visit=visit, check=check, flags=["manual"], accepted=True, now=now
    )
    assert event is not None
    return event


async def record_task(
    conn: asyncpg.Connection, caller: Viewer, *, visit_id: UUID, body: TaskIn
) -> asyncpg.Record:
    """The visit's carer (or a coordinator) marks a task done or not done with a note."""
    row = await visible_visit(conn, caller, visit_id)
    role = caller.principal.role
    if role is not Role.CARER:
        caller.require_manager(row["organisation_id"])
    if row["status"] == "cancelled":
        raise InvalidState("the visit was cancelled")
    if not await queries.set_task(
        conn, visit_id=visit_id, task=body.task, status=body.status, note=body.note, by=caller.principal.id
    ):
        raise NotFound(f"task {body.task!r} is not one of this visit's")
    return row


async def reassign(
    conn: asyncpg.Connection, caller: Viewer, *, visit_id: UUID, body: VisitCarersIn
) -> dict[str, list[str]]:
    """Give the visit to these carers (coordinators); every change recorded with its reason."""
    row = await visible_visit(conn, caller, visit_id)
    caller.require_manager(row["organisation_id"])
    visit = await queries.get_visit(conn, visit_id=visit_id, for_update=True)
    assert visit is not None
    if visit["status"] in ("completed", "cancelled"):
        raise InvalidState(f"the visit is {visit['status']}; its carers are as they were")
    wanted = list(dict.fromkeys(body.carer_ids))
    if len(wanted) > 4:
        raise InvalidInput("at most four carers on a visit")
    await plans.require_carers(
        conn,
        caller,
        organisation_id=visit["organisation_id"],
        home_id=visit["home_id"],
        carer_ids=wanted,
        skills=list(visit["required_skills"]),
    )
    current = await assignment_queries.assigned_carers(conn, visit_id=visit_id)
    who = caller.principal
    actor = ("user" if who.kind == "user" else "api_key", who.name)
    removed = [c for c in current if c not in wanted]
    added = [c for c in wanted if c not in current]
    for carer in removed:
        await assignment_queries.unassign(
            conn, visit_id=visit_id, carer_id=carer, by=who.id, actor=actor, reason=body.reason
        )
    for carer in added:
        await assignment_queries.assign(
            conn, visit_id=visit_id, carer_id=carer, by=who.id, actor=actor, reason=body.reason
        )
    return {"added": [str(c) for c in added], "removed": [str(c) for c in removed]}


async def board(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    organisation_id: UUID,
    day: date | None,
    now: datetime,
    after: tuple[datetime, UUID] | None = None,
    limit: int | None = None,
) -> list[asyncpg.Record]:
    """The organisation's visits of a day (each home's today by default), for its coordinators; a page
    of `limit` after the (planned start, id) `after` when given, the whole day otherwise."""
    await board_access(conn, caller, organisation_id=organisation_id)
    return await queries.board(
        conn,
        organisation_id=organisation_id,
        anchor=_anchor(day, now),
        day=day,
        after=after,
        limit=limit,
    )


async def board_with_counts(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    organisation_id: UUID,
    day: date | None,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[asyncpg.Record], dict[str, int] | None]:
    """A page of the board (carers and tasks as JSON text) and, on the first page, the day's counts."""
    await board_access(conn, caller, organisation_id=organisation_id)
    # One statement (dates, page and counts): each round trip costs both processes more than the
    # rows do (issue 14's profile).
    return await queries.board_page(
        conn,
        organisation_id=organisation_id,
        anchor=_anchor(day, now),
        day=day,
        now=now,
        after=after,
        limit=limit,
        with_counts=after is None,
    )


def _anchor(day: date | None, now: datetime) -> datetime:
    # The instant whose local date, in each home's zone, is the board's day: now, or the day's UTC noon.
    return (
        now if day is None else datetime.combine(day, datetime.min.time(), now.tzinfo) + timedelta(hours=12)
    )


async def board_access(conn: asyncpg.Connection, caller: Viewer, *, organisation_id: UUID) -> None:
    """The board and the log are the organisation's coordinators' (and its integrations', to read)."""
    p = caller.principal
    if p.role is not Role.INTEGRATION:
        caller.require_manager(organisation_id)
    elif p.organisation_id != organisation_id:
        raise NotFound(f"organisation {organisation_id} not found")


async def my_visits(
    conn: asyncpg.Connection, caller: Viewer, *, day: date | None, now: datetime
) -> list[asyncpg.Record]:
    """A carer's own visits of a day (by default: the visits planned from 12 h ago to 24 h ahead)."""
    if caller.principal.role is not Role.CARER:
        raise Forbidden("only carers have visits of their own")
    if day is None:
        since, until = now - timedelta(hours=12), now + timedelta(hours=24)
    else:
        since = datetime.combine(day, datetime.min.time(), now.tzinfo) - timedelta(hours=14)
        until = since + timedelta(hours=52)
    rows = await queries.visits_between(
        conn, scope=caller.scope, since=since, until=until, carer_id=caller.principal.id
    )
    return [r for r in rows if day is None or r["local_date"] == day]


async def home_visits(
    conn: asyncpg.Connection, caller: Viewer, *, home_id: UUID, since: date, until: date
) -> list[asyncpg.Record]:
    """A home's visits between two local dates with their verdicts (family members, coordinators)."""
    await visible_home(conn, caller, home_id)
    if caller.principal.role is Role.CARER:
        raise Forbidden("carers see their own visits (GET /v1/visits/mine)")
    return await log_queries.select_log(
        conn, scope=caller.scope, home_id=home_id, since=since, until=until, limit=1000
    )


async def issue_tag(
    conn: asyncpg.Connection, caller: Viewer, *, organisation_id: UUID, body: TagIn
) -> asyncpg.Record:
    """Give an NFC tag to a carer of the organisation (its coordinators)."""
    caller.require_manager(organisation_id)
    await member_of(
        conn, caller, body.user_id, organisation_id=organisation_id, roles=(Role.CARER,), active=True
    )
    row = await tag_queries.insert_tag(
        conn, tag_id=body.tag_id, user_id=body.user_id, organisation_id=organisation_id
    )
    if row is None:
        raise Conflict(f"tag {body.tag_id} is already given to a carer; revoke it first")
    return row


async def revoke_tag(conn: asyncpg.Connection, caller: Viewer, *, tag_row_id: UUID) -> asyncpg.Record:
    """Revoke a tag (coordinators of its organisation)."""
    row = await tag_queries.get_tag(conn, tag_row_id=tag_row_id)
    if row is None or not _in_tenant(caller, row["organisation_id"]):
        raise NotFound(f"tag {tag_row_id} not found")
    caller.require_manager(row["organisation_id"])
    return await tag_queries.revoke_tag(conn, tag_row_id=tag_row_id)


async def set_skills(conn: asyncpg.Connection, caller: Viewer, *, user_id: UUID, skills: list[str]) -> UUID:
    """Replace a carer's skills (their organisation's coordinators); the carer's organisation."""
    user = await visible_user(conn, caller, user_id)
    if user.organisation_id is None:
        raise InvalidInput(f"user {user_id} is not a carer")
    caller.require_manager(user.organisation_id)
    await member_of(conn, caller, user_id, organisation_id=user.organisation_id, roles=(Role.CARER,))
    await plan_queries.set_carer_skills(conn, user_id=user_id, skills=skills)
    return user.organisation_id


def _in_tenant(caller: Viewer, organisation_id: UUID) -> bool:
    p = caller.principal
    return p.role is Role.PLATFORM_ADMIN or p.organisation_id == organisation_id
