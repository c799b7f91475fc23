"""A plan's figures: travel, lateness, continuity, hours; the same measures for every way of rostering."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from rostering.model import Assignment, Figures, PastVisit, Round, Visit, Weights


def figures(
    visits: Sequence[Visit],
    rounds: Iterable[Round],
    assignments: Sequence[Assignment],
    history: Iterable[PastVisit],
    weights: Weights,
) -> Figures:
    """The measures a coordinator and a commissioner look at."""
    rounds = list(rounds)
    by_id = {v.id: v for v in visits}
    late = [a for a in assignments if a.late_s > weights.late_grace_s]
    weeks: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for a in assignments:
        visit = by_id[a.visit_id]
        year, week, _ = visit.planned_start.isocalendar()
        weeks[(visit.client_id, year, week)].update(a.carer_ids)
    hours: dict[str, float] = defaultdict(float)
    for r in rounds:
        hours[r.carer_id] += r.worked_s / 3600
    seen = {(p.client_id, p.carer_id) for p in history}
    new = sum(1 for a in assignments for c in a.carer_ids if (by_id[a.visit_id].client_id, c) not in seen)
    worked = [h for h in hours.values() if h > 0]
    return Figures(
        visits=len(visits),
        covered=len(assignments),
        uncovered=len(visits) - len(assignments),
        travel_h=round(sum(r.travel_s for r in rounds) / 3600, 2),
        late_visits=len(late),
        lateness_h=round(sum(a.late_s for a in late) / 3600, 2),
        distinct_carers_per_client_week=round(sum(len(s) for s in weeks.values()) / len(weeks), 3)
        if weeks
        else 0.0,
        hours_per_carer={k: round(v, 2) for k, v in sorted(hours.items())},
        hours_spread_h=round(max(worked) - min(worked), 2) if worked else 0.0,
        new_carer_visits=new,
    )
