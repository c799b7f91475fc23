"""A carer calls in sick at 07:00: their visits move, and other rounds change only where they must."""

from __future__ import annotations

from rostering.model import Problem
from rostering.planner import plan
from rostering.replan import replan_absence
from rostering.travel import GreatCircleTravel
from tests.rostering.cases import at, carer, check, point, visit

TRAVEL = GreatCircleTravel()


def _problem() -> Problem:
    # Three patches of the town, each with its own carer; a fourth carer, Dan, has a light round nearby.
    visits = []
    for n, (east, north) in enumerate(((0, 0), (4, 0), (0, 4))):
        for i in range(3):
            visits.append(
                visit(f"p{n}v{i}", where=point(east + 0.3 * i, north), planned=at(8 + 2 * i), slack_min=45)
            )
    visits.append(visit("d0", where=point(2, 2), planned=at(9)))
    carers = (
        carer("ann", home=point(0, 0)),
        carer("bob", home=point(4, 0)),
        carer("cat", home=point(0, 4)),
        carer("dan", home=point(2, 2)),
    )
    return Problem(tuple(visits), carers)


def test_replanning_moves_the_absent_carers_visits_and_leaves_other_rounds_alone() -> None:
    problem = _problem()
    before = plan(problem, TRAVEL, time_limit_s=2)
    check(problem, before)
    ann = next(r for r in before.rounds if r.carer_id == "ann")
    anns = {s.visit_id for s in ann.stops if s.visit_id}
    assert anns
    result = replan_absence(problem, before, carer_id="ann", at=at(7), travel=TRAVEL, time_limit_s=2)
    check(problem, result.plan)
    assert set(result.orphaned) == anns
    assert all(r.carer_id != "ann" for r in result.plan.rounds)
    assert not result.plan.uncovered
    # Every visit that was not Ann's stays with its carer.
    old_owner = {s.visit_id: r.carer_id for r in before.rounds for s in r.stops if s.visit_id}
    new_owner = {s.visit_id: r.carer_id for r in result.plan.rounds for s in r.stops if s.visit_id}
    assert all(new_owner[v] == c for v, c in old_owner.items() if c != "ann")
    # Only rounds that received Ann's visits changed their visits; the summary says so.
    changed = {c.carer_id for c in result.changes if c.added or c.removed} - {"ann"}
    receivers = {new_owner[v] for v in anns}
    assert changed == receivers
    assert f"{len(anns)} visit(s) moved" in result.summary


def test_visits_already_started_stay_with_the_carer_who_started_them() -> None:
    problem = _problem()
    before = plan(problem, TRAVEL, time_limit_s=2)
    ann = next(r for r in before.rounds if r.carer_id == "ann")
    first = ann.stops[0]
    result = replan_absence(problem, before, carer_id="ann", at=first.end, travel=TRAVEL, time_limit_s=2)
    check(problem, result.plan)
    kept = next(r for r in result.plan.rounds if r.carer_id == "ann")
    assert [s.visit_id for s in kept.stops] == [first.visit_id]
