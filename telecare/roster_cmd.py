"""`telecare roster ...`: rosters from the command line.

`telecare roster demo` plans the demo's simulated provider (its carers, clients and care plans in one
town) and prints the plan's figures, every round and every uncovered visit with its reason, compared with
the greedy baseline and the provider's own rota. `telecare roster propose` does what the coordinators' API
does for an organisation's stored visits: propose for a date range (as a coordinator, by email), print the
plan, and with --accept assign its visits (audited as that coordinator); `telecare roster compare A B`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from kernel.settings import Settings
from rostering.greedy import greedy
from rostering.planner import plan
from rostering.report import compare, render
from rostering.travel import GreatCircleTravel
from simulators.workforce import make_workforce, problem_for, provider_rota


def add_command(sub: Any) -> None:
    """Add `roster` to the top-level subparsers."""
    roster = sub.add_parser("roster", help="propose, accept and compare rosters of carers' rounds")
    actions = roster.add_subparsers(dest="action", required=True)
    demo = actions.add_parser("demo", help="plan the demo's simulated provider (no database)")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 12, 3))
    demo.add_argument("--days", type=int, default=1)
    demo.add_argument("--carers", type=int, default=40)
    demo.add_argument("--visits-per-day", type=int, default=400)
    demo.add_argument("--time-limit", type=float, default=55.0, help="solver seconds per day")
    demo.add_argument("--rounds", action="store_true", help="print every carer's round")
    propose = actions.add_parser("propose", help="propose a roster for an organisation's visits")
    propose.add_argument("--org", type=UUID, required=True)
    propose.add_argument("--start", type=date.fromisoformat, required=True)
    propose.add_argument("--end", type=date.fromisoformat, required=True)
    propose.add_argument("--as", dest="as_email", required=True, help="the coordinator acting")
    propose.add_argument("--time-limit", type=float, default=30.0, help="solver seconds per day")
    propose.add_argument("--accept", action="store_true", help="assign the visits once planned")
    cmp = actions.add_parser("compare", help="two stored rosters' figures side by side")
    cmp.add_argument("a", type=UUID)
    cmp.add_argument("b", type=UUID)
    cmp.add_argument("--as", dest="as_email", required=True, help="the coordinator asking")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one roster command; 0 on success."""
    if args.action == "demo":
        print(demo(args))
        return 0
    from telecare.roster_db import run_stored

    print(asyncio.run(run_stored(args, settings)))
    return 0


def demo(args: argparse.Namespace) -> str:
    """The demo provider's plan, and the same days by greedy and by the provider's rota."""
    workforce = make_workforce(carers=args.carers, visits_per_day=args.visits_per_day)
    days = [args.start + timedelta(days=n) for n in range(max(1, args.days))]
    problem = problem_for(workforce, days, rest_days=len(days) > 1)
    travel = GreatCircleTravel()
    proposed = plan(problem, travel, time_limit_s=args.time_limit)
    plans = {
        "proposed": proposed,
        "greedy": greedy(problem, travel),
        "provider_rota": provider_rota(workforce, problem, travel),
    }
    head = (
        f"demo provider: {len(problem.carers)} carers, {len(workforce.clients)} clients, "
        f"{len(problem.visits)} visits on {days[0].isoformat()}"
        + (f" to {days[-1].isoformat()}" if len(days) > 1 else "")
    )
    return "\n\n".join((head, render(proposed, rounds=args.rounds), "compared:\n" + compare(plans)))
