"""Every long round's break put into its real schedule after the search, taking visits out where it has none.

The rule (the one tests/rostering/cases.py checks): a round that works longer than `break_after_s` with the
break's own time on top has a break between two of its visits; a round that does not is never given one.
The search plans without breaks (rostering/build.py says why), so here each round owed a break gets it where
it delays the round least, and a round with no room for it loses the fewest visits, in one run, that make
room (or make the round short enough to owe none). What is taken out is offered to other rounds afterwards
(rostering/refill.py). Everything is judged on the real schedule, the one the coordinator is handed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rostering.build import Built
from rostering.dayinput import DayInput
from rostering.decode import BREAK, Sequence, schedule
from rostering.model import Round, Stop, StopKind, Weights


@dataclass(slots=True, frozen=True)
class Placed:
    """A round's order of stops (its break in place if it owes one) and its real schedule."""

    seq: Sequence
    rnd: Round


def owed(weights: Weights, rnd: Round) -> bool:
    """Whether a round must have a break: it works longer than the rule's limit plus the break itself."""
    return rnd.worked_s > weights.break_after_s + weights.break_s


def _too_late(day: DayInput, built: Built, stop: Stop) -> bool:
    """Whether a visit starts past its window's end (a double-up past its meeting time)."""
    if stop.visit_id is None:
        return False
    visit = built.visit_of[stop.visit_id]
    return stop.start > (day.pins[visit.id] if visit.carers_needed >= 2 else visit.window_end)


def holds(day: DayInput, built: Built, seq: Sequence, rnd: Round) -> bool:
    """Every visit starts in its window (a double-up at its meeting time) and the carer is home in time."""
    vehicle = day.vehicles[seq.vehicle]
    if any(_too_late(day, built, stop) for stop in rnd.stops):
        return False
    return rnd.back <= vehicle.shift.end and rnd.worked_s <= vehicle.budget_s


def bare(seq: Sequence) -> Sequence:
    """The sequence without its break."""
    return replace(seq, items=tuple(i for i in seq.items if i != BREAK))


def fitted(day: DayInput, built: Built, seq: Sequence) -> Placed | None:
    """The round as the rule wants it: a break where it delays least if one is owed (a break already in an
    inner place is kept when it holds), none if not; None when no place for the break holds."""
    plain = bare(seq)
    rnd = schedule(day, built, plain)
    if not holds(day, built, plain, rnd):
        return None  # a break only delays what follows, so no place for one can hold either
    if not owed(day.weights, rnd):
        return Placed(plain, rnd)
    if BREAK in seq.items[1:-1]:
        kept = schedule(day, built, seq)
        if holds(day, built, seq, kept):
            return Placed(seq, kept)
    best: tuple[tuple[int, int], Placed] | None = None
    for pos in range(1, len(plain.items)):
        # Between two visits only: a break before the first or after the last is no rest from the round.
        moved = replace(plain, items=(*plain.items[:pos], BREAK, *plain.items[pos:]))
        candidate = schedule(day, built, moved)
        if not holds(day, built, moved, candidate):
            continue
        delay = sum(day.seconds(s.start) for s in candidate.stops if s.kind is StopKind.VISIT)
        key = (candidate.worked_s, delay)
        if best is None or key < best[0]:
            best = (key, Placed(moved, candidate))
    return None if best is None else best[1]


def _cut(day: DayInput, built: Built, seq: Sequence, pairs: set[str]) -> tuple[Placed, tuple[str, ...]]:
    """The round less the fewest visits in a row that let it hold with its break (or owe none); a double-up
    counts twice, since its partner's half goes too. The round emptied, the last resort, always holds."""
    items = bare(seq).items
    for length in range(1, len(items)):
        best: tuple[tuple[int, int], Placed, tuple[str, ...]] | None = None
        for i in range(len(items) - length + 1):
            run = items[i : i + length]
            found = fitted(day, built, replace(seq, items=items[:i] + items[i + length :]))
            if found is None:
                continue
            key = (sum(2 if v in pairs else 1 for v in run), found.rnd.travel_s)
            if best is None or key < best[0]:
                best = (key, found, run)
        if best is not None:
            return best[1], best[2]
    empty = replace(seq, items=())
    return Placed(empty, schedule(day, built, empty)), items


def _late(day: DayInput, built: Built, seq: Sequence) -> str | None:
    """The first visit that starts past its window without a break (or the last, if the round ends too
    late), or None when the round holds."""
    plain = bare(seq)
    rnd = schedule(day, built, plain)
    late = next((stop.visit_id for stop in rnd.stops if _too_late(day, built, stop)), None)
    if late is not None:
        return late
    return None if holds(day, built, plain, rnd) else plain.items[-1]


def settled(day: DayInput, built: Built, seq: Sequence, pairs: set[str]) -> tuple[Placed, list[str]]:
    """The round holding with the break it owes, and the visits taken out to get there."""
    out: list[str] = []
    while (late := _late(day, built, seq)) is not None:
        # The search's round does not hold on the real schedule (it should): what breaks it goes first, so
        # that what is cut for the break below is only what the break costs.
        seq = replace(seq, items=tuple(i for i in seq.items if i != late))
        out.append(late)
    found = fitted(day, built, seq)
    while found is None:
        found, run = _cut(day, built, seq, pairs)
        out.extend(run)
        seq = found.seq
        found = fitted(day, built, seq)
    return found, out


def rested(day: DayInput, built: Built, seqs: list[Sequence]) -> tuple[list[Placed], list[str]]:
    """Every round with the break it owes, and the visits taken out for it (both halves of a double-up)."""
    pairs = {v.id for v in day.visits if v.carers_needed >= 2}
    placed: dict[int, Placed] = {}
    out: list[str] = []
    for seq in seqs:
        placed[seq.vehicle], taken = settled(day, built, seq, pairs)
        out.extend(taken)
    halves = {v for v in out if v in pairs}
    while halves:
        # A double-up taken out of one round leaves a lone half in its partner's: that goes too.
        more: list[str] = []
        for k, p in placed.items():
            if halves & set(p.seq.items):
                kept = replace(p.seq, items=tuple(i for i in p.seq.items if i not in halves))
                placed[k], taken = settled(day, built, kept, pairs)
                more.extend(taken)
        out.extend(more)
        halves = {v for v in more if v in pairs}
    return [p for p in placed.values() if p.seq.items], list(dict.fromkeys(out))
