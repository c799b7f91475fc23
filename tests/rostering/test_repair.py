"""The repair after the search: a lone half of a double-up gets its second carer, a left-out visit is put
where it fits, and a half that can find no partner is taken out rather than handed on."""

from __future__ import annotations

import pyvrp

from rostering.build import Built, NodeRef, build
from rostering.dayinput import DayInput, Vehicle
from rostering.model import Carer, Visit, Weights
from rostering.repair import repaired
from rostering.solve import day_origin
from rostering.travel import GreatCircleTravel
from tests.rostering.cases import at, carer, point, visit

HOIST = frozenset({"hoist"})


def _built(visits: tuple[Visit, ...], carers: tuple[Carer, ...]) -> Built:
    vehicles = tuple(Vehicle(c, c.shifts[0], c.home, c.shifts[0].start, c.max_week_s) for c in carers)
    origin = day_origin(visits, [v.shift.start for v in vehicles])
    pins = {v.id: v.planned_start for v in visits if v.carers_needed >= 2}
    day = DayInput(origin, visits, vehicles, Weights(), pins=pins)
    return build(day, GreatCircleTravel())


def _served(built: Built, solution: pyvrp.Solution) -> dict[NodeRef, int]:
    return {
        built.nodes[a.idx]: r.vehicle_type() for r in solution.routes() for a in r.schedule() if a.is_client()
    }


def test_a_lone_half_gets_its_second_carer_and_a_left_out_visit_is_put_in() -> None:
    dbl = visit("dbl", planned=at(10), carers_needed=2, skills=HOIST, minutes=45)
    single = visit("one", planned=at(12), where=point(0.5, 0.5))
    built = _built((dbl, single), (carer("ann", skills=HOIST), carer("bob", skills=HOIST, home=point(1, 0))))
    first = built.nodes.index(NodeRef("dbl", 0, False))
    lone = pyvrp.Solution(built.data, [pyvrp.Route(built.data, [first], 0)])
    served = _served(built, repaired(built, lone, ["dbl", "one"]))
    halves = [vehicle for ref, vehicle in served.items() if ref.visit_id == "dbl"]
    assert sorted(halves) == [0, 1]  # both halves, by two carers
    assert any(ref.visit_id == "one" for ref in served)


def test_a_half_with_no_possible_partner_is_taken_out() -> None:
    dbl = visit("dbl", planned=at(10), carers_needed=2, skills=HOIST, minutes=45)
    built = _built((dbl,), (carer("ann", skills=HOIST), carer("cat")))  # cat lacks the hoist skill
    first = built.nodes.index(NodeRef("dbl", 0, False))
    lone = pyvrp.Solution(built.data, [pyvrp.Route(built.data, [first], 0)])
    assert _served(built, repaired(built, lone, ["dbl"])) == {}
