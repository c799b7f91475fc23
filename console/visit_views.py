"""Carer visits as the console shows them: the carer's day, the coordinator's board of today, a home's
visits on its timeline and in the family's list, and the next visit. Read through the visits service, so
each viewer sees exactly the visits the API would show them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from accounts.tenancy import Role
from console import queries, timeline
from console.render import LIVE_WORDS
from console.session import Viewer
from visits import service as visits
from visits.views import visit_view

VERDICT_WORDS = {
    "verified": "Verified",
    "verified_with_exceptions": "Verified, with exceptions",
    "unverified": "Not verified",
    "missed": "Missed",
}
# The order the board counts are shown in: what needs a coordinator first.
BOARD_ORDER = ("late", "missed", "overrunning", "due", "in_progress", "upcoming", "completed", "cancelled")
# How far around the day a home's page reads visits: the family's list of the past week, the next visit.
_PAST, _AHEAD = timedelta(days=7), timedelta(days=8)


@dataclass(frozen=True, slots=True)
class VisitCard:
    """A visit with what every screen says about it."""

    row: Any  # visits.views.visit_view of a visits row (with verdict and reasons when judged)
    home_name: str
    tz: str
    live: str
    verdict: str | None
    reasons: list[str]

    @property
    def id(self) -> UUID:
        """The visit's id."""
        return UUID(str(self.row["id"]))

    @property
    def carers(self) -> str:
        """The carers' names, or that nobody is assigned yet."""
        return ", ".join(c["name"] for c in self.row["carers"]) or "no carer assigned yet"

    @property
    def words(self) -> str:
        """The live status in words, with the verdict once the visit is judged."""
        live = LIVE_WORDS.get(self.live, self.live)
        if self.verdict:
            return f"{live}: {VERDICT_WORDS.get(self.verdict, self.verdict)}"
        return live

    @property
    def tone(self) -> str:
        """One class for colour: the verdict if judged, else the live status."""
        return self.verdict or self.live

    @property
    def label(self) -> str:
        """What the visit is, for titles and lists."""
        return str(self.row["service_type"]).replace("_", " ")

    def span(self, now: datetime) -> tuple[datetime, datetime]:
        """What the timeline shades: check-in to check-out as recorded, else the planned time."""
        start = self.row["checked_in_at"] or self.row["planned_start"]
        end = self.row["checked_out_at"]
        if end is None and self.live in ("in_progress", "overrunning"):
            end = max(now, start + timedelta(minutes=5))
        return start, end or self.row["planned_end"]


@dataclass(frozen=True, slots=True)
class Board:
    """Today's visits of the coordinator's organisations, and how many are in each live status."""

    cards: list[VisitCard]
    counts: list[tuple[str, int]]


def cards_of(
    rows: Iterable[asyncpg.Record],
    homes: dict[UUID, Any],
    now: datetime,
    judged: dict[UUID, Any] | None = None,
) -> list[VisitCard]:
    """Visit rows as cards; verdicts from the rows themselves (log rows) or from `judged`."""
    cards = []
    for row in rows:
        view = visit_view(row, now)
        home = homes.get(row["home_id"])
        judgement = (judged or {}).get(row["id"]) or view
        verdict, reasons = judgement.get("verdict"), judgement.get("reasons") or []
        cards.append(
            VisitCard(
                row=view,
                home_name=str(home["name"]) if home else "",
                tz=str(home["timezone"]) if home else "UTC",
                live=view["live_status"],
                verdict=verdict,
                reasons=[str(r) for r in reasons],
            )
        )
    return cards


async def board(conn: asyncpg.Connection, viewer: Viewer, *, now: datetime) -> Board:
    """Each home's today of the viewer's organisation(s), with live status and verdicts."""
    principal = viewer.caller.principal
    if principal.role is Role.PLATFORM_ADMIN or principal.organisation_id is None:
        homes = await queries.home_states(conn, scope=viewer.caller.scope)
        organisations = sorted({r["organisation_id"] for r in homes})
    else:
        organisations = [principal.organisation_id]
    rows: list[asyncpg.Record] = []
    for org in organisations:
        rows += await visits.board(conn, viewer.caller, organisation_id=org, day=None, now=now)
    ids = [r["id"] for r in rows]
    judged = await queries.verdicts(conn, visit_ids=ids)
    names = await queries.homes_by_id(conn, home_ids=list({r["home_id"] for r in rows}))
    cards = cards_of(rows, names, now, judged)
    tally = Counter(c.live for c in cards)
    return Board(cards, [(s, tally[s]) for s in BOARD_ORDER if tally[s]])


async def carer_day(conn: asyncpg.Connection, viewer: Viewer, *, now: datetime) -> list[VisitCard]:
    """The carer's own visits of each home's today, and any still open from before."""
    rows = await visits.my_visits(conn, viewer.caller, day=None, now=now)
    names = await queries.homes_by_id(conn, home_ids=list({r["home_id"] for r in rows}))
    cards = cards_of(rows, names, now)
    return [
        c
        for c in cards
        if c.row["local_date"] == now.astimezone(ZoneInfo(c.tz)).date()
        or c.live in ("in_progress", "overrunning")
    ]


async def carer_visit(
    conn: asyncpg.Connection, viewer: Viewer, visit_id: UUID, *, now: datetime
) -> VisitCard:
    """One of the carer's own visits; NotFound for anyone else's (as for one that does not exist)."""
    row = await visits.visible_visit(conn, viewer.caller, visit_id)
    names = await queries.homes_by_id(conn, home_ids=[row["home_id"]])
    return cards_of([row], names, now)[0]


async def home_visits(
    conn: asyncpg.Connection, viewer: Viewer, home: Any, *, day: date, today: date, now: datetime
) -> list[VisitCard]:
    """A home's visits around `day` (a week before it to a week after today), newest first; a carer
    sees their own only."""
    names = {home["id"]: home}
    if viewer.role is Role.CARER:
        rows = [
            r
            for r in await visits.my_visits(conn, viewer.caller, day=day, now=now)
            if r["home_id"] == home["id"]
        ]
        return cards_of(reversed(rows), names, now)
    rows = await visits.home_visits(
        conn, viewer.caller, home_id=home["id"], since=day - _PAST, until=max(day, today) + _AHEAD
    )
    return cards_of(rows, names, now)


def on_timeline(
    cards: Sequence[VisitCard], start: datetime, end: datetime, now: datetime
) -> list[timeline.Visit]:
    """The visits that overlap the timeline's day, as it shades them (cancelled ones left out)."""
    shown = []
    for card in cards:
        if card.live == "cancelled":
            continue
        begin, finish = card.span(now)
        if begin < end and finish > start:
            label = f"{card.label} ({card.carers}): {card.words}"
            shown.append(timeline.Visit(begin, finish, label, card.tone))
    return sorted(shown, key=lambda v: v.start)


def happened(cards: Sequence[VisitCard], now: datetime) -> list[VisitCard]:
    """The visits that took place or should have (newest first), for the family's list."""
    return [c for c in cards if c.row["planned_start"] <= now and c.live not in ("cancelled", "upcoming")]


def next_visit(cards: Sequence[VisitCard], tz: str, now: datetime) -> str | None:
    """The next planned visit in plain words ('today at 17:30, Sam'), or None if none is planned."""
    coming = [c for c in cards if c.live == "upcoming" and c.row["planned_start"] > now]
    if not coming:
        return None
    first = min(coming, key=lambda c: c.row["planned_start"])
    zone = ZoneInfo(tz)
    at = first.row["planned_start"].astimezone(zone)
    today = now.astimezone(zone).date()
    when = {today: "today", today + timedelta(days=1): "tomorrow"}.get(at.date(), at.strftime("%a %d %b"))
    return f"{when} at {at.strftime('%H:%M')} ({first.carers})"
