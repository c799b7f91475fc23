"""Every constraint honoured on small hand-made cases, and each uncovered visit explained."""

from __future__ import annotations

from datetime import timedelta

from rostering.model import PastVisit, Problem, StopKind, TravelMode, Weights
from rostering.planner import plan
from rostering.travel import GreatCircleTravel
from tests.rostering.cases import at, carer, check, point, visit

TRAVEL = GreatCircleTravel()
LIMIT_S = 1.5


def _solve(problem: Problem):  # type: ignore[no-untyped-def]
    result = plan(problem, TRAVEL, time_limit_s=LIMIT_S)
    check(problem, result)
    return result


def test_a_window_too_tight_to_reach_is_uncovered_with_the_reason() -> None:
    # The only carer walks, starts at 07:00, and the client is 6 km away with a window closing at 07:10.
    far = visit("far", where=point(6, 0), planned=at(7, 5), slack_min=5)
    problem = Problem((far,), (carer("ann", mode=TravelMode.WALK),))
    result = _solve(problem)
    assert [u.visit_id for u in result.uncovered] == ["far"]
    assert "reach the client in the window" in result.uncovered[0].reason


def test_a_skill_nobody_has_is_uncovered_and_never_given_to_an_unskilled_carer() -> None:
    problem = Problem(
        (visit("peg", planned=at(9), skills=frozenset({"peg"})), visit("easy", planned=at(10))),
        (carer("ann", skills=frozenset({"medication"})),),
    )
    result = _solve(problem)
    assert [u.visit_id for u in result.uncovered] == ["peg"]
    assert "peg" in result.uncovered[0].reason
    assert [a.visit_id for a in result.assignments] == ["easy"]


def test_a_double_up_gets_two_skilled_carers_who_start_together() -> None:
    hoist = frozenset({"hoist"})
    problem = Problem(
        (
            visit("dbl", planned=at(10), carers_needed=2, skills=hoist, minutes=45),
            visit("a", planned=at(9), where=point(2, 0)),
            visit("b", planned=at(11), where=point(0, 2)),
        ),
        (
            carer("ann", skills=hoist),
            carer("bob", skills=hoist, home=point(2, 2)),
            carer("cat", home=point(1, 0)),
        ),
    )
    result = _solve(problem)
    dbl = next(a for a in result.assignments if a.visit_id == "dbl")
    assert sorted(dbl.carer_ids) == ["ann", "bob"]
    assert any("double-up" in r for r in dbl.reasons)
    assert not result.uncovered


def test_a_double_up_with_only_one_able_carer_is_uncovered_whole() -> None:
    problem = Problem(
        (visit("dbl", planned=at(10), carers_needed=2, skills=frozenset({"hoist"})),),
        (carer("ann", skills=frozenset({"hoist"})), carer("bob")),
    )
    result = _solve(problem)
    assert not result.assignments and not result.rounds
    assert "needs 2 carer(s) with hoist" in result.uncovered[0].reason


def test_a_carers_weekly_hours_are_never_exceeded() -> None:
    # Ann has 1.5 h left this week; five half-hour visits need more, so Bob takes the rest.
    visits = tuple(visit(f"v{i}", planned=at(8 + i), where=point(0.5 * i, 0)) for i in range(5))
    ann = carer("ann", max_week_h=1.5)
    problem = Problem(visits, (ann, carer("bob", home=point(3, 3))))
    result = _solve(problem)
    assert not result.uncovered
    ann_round = next((r for r in result.rounds if r.carer_id == "ann"), None)
    assert ann_round is None or ann_round.worked_s <= 1.5 * 3600


def test_hours_exceeded_for_everyone_is_explained() -> None:
    problem = Problem((visit("v", planned=at(9), minutes=60),), (carer("ann", max_week_h=0.5),))
    result = _solve(problem)
    assert "maximum hours for the week" in result.uncovered[0].reason


def test_an_excluded_carer_is_never_sent() -> None:
    problem = Problem(
        (visit("v", planned=at(9), excluded=frozenset({"ann"})),),
        (carer("ann"), carer("bob", home=point(5, 5))),
    )
    result = _solve(problem)
    assert result.assignments[0].carer_ids == ("bob",)


def test_a_long_round_has_a_break() -> None:
    visits = tuple(
        visit(f"v{i}", planned=at(7, 45) + timedelta(minutes=50 * i), slack_min=20) for i in range(11)
    )
    problem = Problem(visits, (carer("ann", start=7, end=18), carer("bob", start=7, end=18)))
    result = _solve(problem)
    long_rounds = [r for r in result.rounds if r.worked_s > 6.5 * 3600]
    assert all(any(s.kind is StopKind.BREAK for s in r.stops) for r in long_rounds)


def test_continuity_prefers_the_carer_the_client_knows() -> None:
    history = tuple(PastVisit("client-v", "bob", at(9) - timedelta(days=d)) for d in range(1, 8))
    problem = Problem(
        (visit("v", planned=at(9)),),
        (carer("ann", home=point(1, 1)), carer("bob", home=point(2, 2))),
        history,
    )
    result = _solve(problem)
    assert result.assignments[0].carer_ids == ("bob",)
    assert any("most regular" in r for r in result.assignments[0].reasons)
    # With continuity weighed at nothing, the nearer carer goes.
    result = _solve(Problem(problem.visits, problem.carers, history, Weights(new_carer=0.0)))
    assert result.assignments[0].carer_ids == ("ann",)
