"""A day's input turned into PyVRP's ProblemData: one vehicle type and one routing profile per carer-shift.

Why one profile per carer: PyVRP prices and times a route through its profile's matrices, so a carer's own
matrices are where their travel mode, the skills they lack (an edge they cannot take) and the clients they
know (continuity, a surcharge on the edges into clients they do not know) are all expressed, without
anything PyVRP does not support.

Breaks are not in the search: a break node reachable at no cost from anywhere filled 23 % of every visit's
granular neighbours and cost the search a third of its iterations (docs/bench/README.md). The search plans
the visits, and rostering/breaks.py puts each owed break into the real schedule afterwards, taking visits
out where a round has no room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from numpy.typing import NDArray

from rostering.dayinput import DayInput, eligible
from rostering.model import GeoPoint, TravelMode, Visit
from rostering.travel import TravelMatrix

# PyVRP's costs are integers: a weight is priced at UNIT cost units per second, so the default fairness of
# 0.5 is priced at half of travel's 1, as asked (at one unit per second it was rounded up to 1, and the search
# bought a fairer spread of hours with travel: on the benchmark day 67.8 h against 65.5 h at two units).
UNIT = 2
# Dropping a visit costs more than any travel, lateness or continuity it could save (at the default weights,
# 27 hours of travel), and no more: PyVRP prices a second of time warp at most 100,000, so a prize far above
# that (it was 10,000,000) made a few minutes of lateness worth a visit, and the search stayed among
# infeasible plans and reported a poor feasible one, dropping visits greedy covers.
PRIZE = 200_000
FORBIDDEN_COST = 50 * PRIZE
FORBIDDEN_S = 10_000_000  # an edge a carer may not take: far beyond any time window


@dataclass(slots=True, frozen=True)
class NodeRef:
    """What a PyVRP client stands for."""

    visit_id: str
    half: int  # 0, or 1 for a double-up's second carer
    late_tier: bool


@dataclass(slots=True, frozen=True)
class Built:
    """The ProblemData and how to read its solutions back."""

    data: pyvrp.ProblemData
    nodes: tuple[NodeRef, ...]  # by PyVRP client index
    points: tuple[GeoPoint, ...]  # by location index
    start_loc: tuple[int, ...]  # per vehicle
    home_loc: tuple[int, ...]
    visit_loc: dict[str, int]
    base: dict[TravelMode, NDArray[np.int64]]  # real travel seconds, per mode, by location
    visit_of: dict[str, Visit]  # the day's visits by id, for the real schedule


@dataclass(slots=True)
class _Layout:
    points: list[GeoPoint]
    start_loc: list[int]
    home_loc: list[int]
    visit_loc: dict[str, int]
    second_loc: dict[str, int]  # a double-up's second carer's copy of the location
    loc_key: list[tuple[str, ...]]  # what a location is, for deciding its edges


def _layout(day: DayInput) -> _Layout:
    lay = _Layout([], [], [], {}, {}, [])
    for k, vehicle in enumerate(day.vehicles):
        lay.start_loc.append(len(lay.points))
        lay.points.append(vehicle.start_at)
        lay.loc_key.append(("depot", str(k)))
        if vehicle.start_at == vehicle.carer.home:
            lay.home_loc.append(lay.start_loc[-1])
        else:
            lay.home_loc.append(len(lay.points))
            lay.points.append(vehicle.carer.home)
            lay.loc_key.append(("depot", str(k)))
    by_key: dict[tuple[str, ...], int] = {}
    for visit in day.visits:
        # Visits share a location when every edge into them is priced alike for every carer.
        key = (
            "visit",
            visit.client_id,
            ",".join(sorted(visit.skills)),
            ",".join(sorted(visit.excluded)),
            day.keep.get(visit.id, ""),
        )
        if key not in by_key:
            by_key[key] = len(lay.points)
            lay.points.append(visit.location)
            lay.loc_key.append(key)
        lay.visit_loc[visit.id] = by_key[key]
        if visit.carers_needed >= 2:
            second = (*key, "second")
            if second not in by_key:
                by_key[second] = len(lay.points)
                lay.points.append(visit.location)
                lay.loc_key.append(second)
            lay.second_loc[visit.id] = by_key[second]
    return lay


def _profile(
    day: DayInput, lay: _Layout, k: int, base: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    vehicle = day.vehicles[k]
    weights = day.weights
    duration = base.copy()
    distance = np.rint(base * weights.travel * UNIT).astype(np.int64)
    visits_at: dict[int, Visit] = {}
    for visit in day.visits:
        visits_at.setdefault(day_loc(lay, visit.id), visit)
        if visit.id in lay.second_loc:
            visits_at.setdefault(lay.second_loc[visit.id], visit)
    for loc, visit in visits_at.items():
        if not eligible(visit, vehicle.carer):
            duration[:, loc] = FORBIDDEN_S
            distance[:, loc] = FORBIDDEN_COST
            continue
        # lay.loc_key[loc][4]: in a re-plan, the carers whose round has it now
        surcharge = day.surcharge(visit, vehicle.carer.id, lay.loc_key[loc][4])
        column = distance[:, loc] + round(surcharge * UNIT)
        column[loc] = 0  # a second visit at the same home in a row is no new stranger
        distance[:, loc] = column
    for vid, second in lay.second_loc.items():
        # One carer may not do both halves of a double-up back to back. Once the halves are pinned to one
        # start no carer can, and the edge must stay open: the copies stand for every double-up of the
        # client, and one carer may well do the morning's first half and the evening's second.
        if vid in day.pins:
            continue
        first = lay.visit_loc[vid]
        duration[first, second] = duration[second, first] = FORBIDDEN_S
        distance[first, second] = distance[second, first] = FORBIDDEN_COST
    np.fill_diagonal(duration, 0)
    np.fill_diagonal(distance, 0)
    return distance, duration


def day_loc(lay: _Layout, visit_id: str) -> int:
    """The location index of a visit."""
    return lay.visit_loc[visit_id]


def _clients(
    day: DayInput, lay: _Layout
) -> tuple[list[pyvrp.Client], list[NodeRef], list[pyvrp.ClientGroup]]:
    clients: list[pyvrp.Client] = []
    nodes: list[NodeRef] = []
    groups: list[pyvrp.ClientGroup] = []
    w = day.weights
    for visit in day.visits:
        loc = lay.visit_loc[visit.id]
        early, late = day.seconds(visit.window_start), day.seconds(visit.window_end)
        if visit.carers_needed >= 2:
            # First pass: each half anywhere in the window. Second pass: both pinned to one second, so no
            # carer can do both and both carers are there together.
            pin = day.pins.get(visit.id)
            lo, hi = (early, late) if pin is None else (day.seconds(pin), day.seconds(pin))
            for half, at in ((0, loc), (1, lay.second_loc[visit.id])):
                clients.append(_client(at, visit.duration_s, lo, hi, PRIZE, None, f"{visit.id}#{half}"))
                nodes.append(NodeRef(visit.id, half, False))
            continue
        late_from = day.seconds(visit.planned_start) + w.late_grace_s
        allowed = day.late_allowed
        if allowed is None or visit.id not in allowed or not early < late_from < late:
            on_time_only = allowed is not None and visit.id not in allowed
            latest = min(late, max(early, late_from)) if on_time_only else late
            clients.append(_client(loc, visit.duration_s, early, latest, PRIZE, None, visit.id))
            nodes.append(NodeRef(visit.id, 0, False))
            continue
        # The on-time start, or a late one priced by the lateness weight: one of the two at most.
        group = len(groups)
        mean_late = (w.late_grace_s + late - day.seconds(visit.planned_start)) / 2
        groups.append(pyvrp.ClientGroup([len(clients), len(clients) + 1], required=False))
        clients.append(_client(loc, visit.duration_s, early, late_from, PRIZE, group, visit.id))
        nodes.append(NodeRef(visit.id, 0, False))
        tier_prize = PRIZE - round(w.lateness * mean_late * UNIT)
        clients.append(_client(loc, visit.duration_s, late_from, late, tier_prize, group, visit.id))
        nodes.append(NodeRef(visit.id, 0, True))
    return clients, nodes, groups


def _client(
    loc: int, service: int, early: int, late: int, prize: int, group: int | None, name: str
) -> pyvrp.Client:
    return pyvrp.Client(
        location=loc,
        service_duration=service,
        tw_early=max(0, early),
        tw_late=max(0, late),
        prize=prize,
        required=False,
        group=group,
        name=name,
    )


def _vehicle_types(
    day: DayInput, lay: _Layout, profile_of: list[int]
) -> tuple[list[pyvrp.Depot], list[pyvrp.VehicleType]]:
    depots: list[pyvrp.Depot] = []
    types: list[pyvrp.VehicleType] = []
    share = fair_share(day)
    for k, vehicle in enumerate(day.vehicles):
        start_depot = len(depots)
        depots.append(pyvrp.Depot(location=lay.start_loc[k], name=f"start:{k}"))
        end_depot = start_depot
        if lay.home_loc[k] != lay.start_loc[k]:
            end_depot = len(depots)
            depots.append(pyvrp.Depot(location=lay.home_loc[k], name=f"home:{k}"))
        begin = max(vehicle.shift.start, vehicle.available_from)
        length = max(0, int((vehicle.shift.end - begin).total_seconds()))
        limit = max(0, min(length, vehicle.budget_s) - _reserved(day, length))
        fair = max(3600, round(share * length))
        shift_s, overtime = limit, 0
        if day.weights.fairness > 0 and fair < limit:
            # Hours past the fair share are allowed but priced, which spreads the work.
            shift_s, overtime = fair, limit - fair
        types.append(
            pyvrp.VehicleType(
                num_available=1,
                start_depot=start_depot,
                end_depot=end_depot,
                tw_early=max(0, day.seconds(begin)),
                tw_late=max(0, day.seconds(vehicle.shift.end)),
                shift_duration=shift_s,
                max_overtime=overtime,
                unit_overtime_cost=max(1, round(day.weights.fairness * UNIT)) if overtime else 0,
                unit_distance_cost=1,
                profile=profile_of[k],
                name=vehicle.carer.id,
            )
        )
    return depots, types


def _reserved(day: DayInput, length_s: int) -> int:
    """The time a shift long enough to owe a break keeps back from the search, which plans no breaks: the
    search's rounds then leave room for it (without it, 378 visits covered on the benchmark day, with it 383,
    and fewer taken out again for breaks)."""
    return day.weights.break_s if length_s > day.weights.break_after_s else 0


def fair_share(day: DayInput) -> float:
    """The part of each shift's length that is its fair share of the day's work."""
    work = sum(v.duration_s * max(1, v.carers_needed) for v in day.visits)
    # Travel and waiting come on top of care time; a quarter is the field's usual share of the day. Shared
    # in proportion to the shifts' lengths: a carer on a split shift has two vehicles, and one flat share
    # per vehicle priced a 7-hour morning's work as overtime against a 6-hour evening's.
    shifts = sum((v.shift.end - max(v.shift.start, v.available_from)).total_seconds() for v in day.vehicles)
    return 1.25 * work / max(3600.0, shifts)


def build(day: DayInput, travel: TravelMatrix) -> Built:
    """The ProblemData for a day, with the maps to read its solutions back."""
    lay = _layout(day)
    modes = {v.carer.travel_mode for v in day.vehicles}
    base = {mode: travel.durations(lay.points, mode) for mode in modes}
    # PyVRP's stubs name the matrices' element type loosely; they are int64 arrays.
    distances: list[Any] = []
    durations: list[Any] = []
    profile_of: list[int] = []
    seen: dict[bytes, int] = {}
    for k, vehicle in enumerate(day.vehicles):
        distance, duration = _profile(day, lay, k, base[vehicle.carer.travel_mode])
        # Carers whose matrices come out identical share one profile: fewer profiles search faster.
        key = distance.tobytes() + duration.tobytes()
        if key not in seen:
            seen[key] = len(distances)
            distances.append(distance)
            durations.append(duration)
        profile_of.append(seen[key])
    clients, nodes, groups = _clients(day, lay)
    depots, types = _vehicle_types(day, lay, profile_of)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(p.lon, p.lat) for p in lay.points],
        clients=clients,
        depots=depots,
        vehicle_types=types,
        distance_matrices=distances,
        duration_matrices=durations,
        groups=groups,
    )
    return Built(
        data,
        tuple(nodes),
        tuple(lay.points),
        tuple(lay.start_loc),
        tuple(lay.home_loc),
        dict(lay.visit_loc),
        base,
        {v.id: v for v in day.visits},
    )
