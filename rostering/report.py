"""A plan in words for a terminal: its figures, each carer's round, the uncovered visits with reasons."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from rostering.model import Plan

FIGURES = (
    ("visits", "visits"),
    ("covered", "covered"),
    ("uncovered", "uncovered"),
    ("travel_h", "travel (h)"),
    ("late_visits", "late visits"),
    ("lateness_h", "lateness (h)"),
    ("distinct_carers_per_client_week", "distinct carers per client per week"),
    ("new_carer_visits", "visits by a carer new to the client"),
    ("hours_spread_h", "hours spread, max - min (h)"),
)


def figures_of(plan: Plan) -> dict[str, Any]:
    """The plan's figures as plain numbers, hours per carer summarised."""
    f = plan.figures
    hours = list(f.hours_per_carer.values())
    out: dict[str, Any] = {key: getattr(f, key) for key, _ in FIGURES}
    out["carers_working"] = len(hours)
    out["mean_hours_per_carer"] = round(statistics.mean(hours), 2) if hours else 0.0
    return out


def render(plan: Plan, *, rounds: bool = True) -> str:
    """The figures, then (optionally) every round in order, then every uncovered visit and why."""
    lines = [f"plan by {plan.solver}"]
    for key, value in figures_of(plan).items():
        label = dict(FIGURES).get(key, key.replace("_", " "))
        lines.append(f"  {label:<40} {value}")
    if rounds:
        lines.append("rounds:")
        for rnd in sorted(plan.rounds, key=lambda r: (r.day, r.carer_id)):
            stops = ", ".join(
                f"{s.start:%H:%M} {s.visit_id}" if s.visit_id else f"{s.start:%H:%M} break" for s in rnd.stops
            )
            lines.append(
                f"  {rnd.day} {rnd.carer_id}: {rnd.depart:%H:%M}-{rnd.back:%H:%M}, "
                f"{rnd.travel_s // 60} min travel: {stops}"
            )
    lines.append(f"uncovered ({len(plan.uncovered)}):")
    lines.extend(f"  {u.visit_id}: {u.reason}" for u in plan.uncovered)
    return "\n".join(lines)


def compare(plans: Mapping[str, Plan]) -> str:
    """Several plans' figures side by side, one column each."""
    names = list(plans)
    rows = {name: figures_of(p) for name, p in plans.items()}
    keys = list(rows[names[0]]) if names else []
    width = max([len(n) for n in names] + [8])
    lines = [f"{'':<40} " + " ".join(f"{n:>{width}}" for n in names)]
    for key in keys:
        label = dict(FIGURES).get(key, key.replace("_", " "))
        lines.append(f"{label:<40} " + " ".join(f"{rows[n][key]!s:>{width}}" for n in names))
    return "\n".join(lines)
