"""One day's solve: the carers' shifts that day, the visits, and what biases the choice of carer."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rostering.model import Carer, GeoPoint, PastVisit, Shift, Visit, Weights


@dataclass(slots=True, frozen=True)
class Vehicle:
    """One carer's shift in a solve (a carer with two shifts that day is two vehicles)."""

    carer: Carer
    shift: Shift
    start_at: GeoPoint  # home, or where the carer is when a re-plan starts
    available_from: datetime
    budget_s: int  # what the week still allows, capped by the shift

    @property
    def label(self) -> str:
        """The carer and the shift's start, for logs and reasons."""
        return f"{self.carer.id}@{self.shift.start.isoformat()}"


@dataclass(slots=True, frozen=True)
class DayInput:
    """What one call of the solver plans."""

    origin: datetime  # second 0 of the solver's clock
    visits: tuple[Visit, ...]
    vehicles: tuple[Vehicle, ...]
    weights: Weights
    familiarity: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (client, carer) -> 0..1
    keep: Mapping[str, str] = field(default_factory=dict)  # visit -> carer whose round has it now
    keep_weight: float = 0.0
    pins: Mapping[str, datetime] = field(default_factory=dict)  # double-up -> the start both carers meet
    # None: every visit has its whole window (the first pass, for coverage). A set: the second pass, where
    # only these visits may start late (priced by the lateness weight) and the others must start on time.
    late_allowed: frozenset[str] | None = None

    def surcharge(self, visit: Visit, carer_id: str, kept_by: str) -> float:
        """What the carer doing the visit costs beyond travel: new to the client (less what they know of
        them) and, in a re-plan, the visit taken off the round that has it (`kept_by`, its carers)."""
        cost = self.weights.new_carer * (1.0 - self.familiarity.get((visit.client_id, carer_id), 0.0))
        if kept_by and carer_id not in kept_by.split(","):
            cost += self.keep_weight
        return cost

    def seconds(self, at: datetime) -> int:
        """An aware datetime on the solver's clock."""
        return int((at - self.origin).total_seconds())

    def at(self, seconds: int) -> datetime:
        """The solver's clock back to an aware datetime."""
        return self.origin + timedelta(seconds=seconds)


def familiarity(
    history: Iterable[PastVisit], preferred: Mapping[str, frozenset[str]], *, since: datetime
) -> dict[tuple[str, str], float]:
    """How well each carer knows each client: their share of the client's recent visits, scaled so the
    carer who came most scores 1; a carer the care plan prefers scores 1 too."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for past in history:
        if past.at >= since:
            counts[past.client_id][past.carer_id] += 1
    scores: dict[tuple[str, str], float] = {}
    for client, by_carer in counts.items():
        top = max(by_carer.values())
        for carer, n in by_carer.items():
            # Anyone who came at all beats a stranger: half credit for one visit, full for the top.
            scores[(client, carer)] = 0.5 + 0.5 * n / top
    for client, carers in preferred.items():
        for carer in carers:
            scores[(client, carer)] = 1.0
    return scores


def pin_time(visit: Visit) -> datetime:
    """Where both carers of a double-up meet: the planned start, kept inside the window."""
    return min(max(visit.planned_start, visit.window_start), visit.window_end)


def eligible(visit: Visit, carer: Carer) -> bool:
    """Whether a carer may do a visit at all: every skill it needs, and not excluded by the care plan."""
    return visit.skills <= carer.skills and carer.id not in visit.excluded
