"""After the search: every visit it left out tried once more in every round, cheapest place first.

PyVRP's prizes are per client, and a double-up is two clients (one per carer), so the search can collect a
lone half: as valuable to it as a whole single visit, worthless to the client. Here each lone half is given
its missing carer where a round can take it at the meeting time (or is taken out), and then each visit
still out is put where it fits at the least added cost. Every check is PyVRP's own feasibility of the
changed round, so nothing is accepted that the solver would not have accepted.
"""

from __future__ import annotations

from collections import defaultdict

import pyvrp

from rostering.build import Built

Routes = dict[int, list[int]]  # vehicle -> its clients in order


def _cost(built: Built, vehicle: int, clients: list[int]) -> int | None:
    """The route's cost, or None when it is not feasible."""
    if not clients:
        return 0
    route = pyvrp.Route(built.data, clients, vehicle)
    if not route.is_feasible():
        return None
    return int(route.distance_cost() + route.duration_cost())


def _best_insert(built: Built, routes: Routes, client: int, avoid: set[int]) -> tuple[int, int, int] | None:
    """(added cost, vehicle, position) of the cheapest feasible place for a client, outside `avoid`."""
    best: tuple[int, int, int] | None = None
    for vehicle in range(built.data.num_vehicle_types):
        if vehicle in avoid:
            continue
        clients = routes.get(vehicle, [])
        base = _cost(built, vehicle, clients)
        if base is None:
            continue
        for pos in range(len(clients) + 1):
            cost = _cost(built, vehicle, [*clients[:pos], client, *clients[pos:]])
            if cost is not None and (best is None or cost - base < best[0]):
                best = (cost - base, vehicle, pos)
    return best


def _put(routes: Routes, vehicle: int, pos: int, client: int) -> None:
    routes.setdefault(vehicle, []).insert(pos, client)


def _holder(routes: Routes, client: int) -> int | None:
    return next((v for v, cs in routes.items() if client in cs), None)


def _alternatives(built: Built) -> dict[str, list[list[int]]]:
    """Per visit, its clients grouped by half: a single visit's on-time and late tier are one half."""
    out: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, node in enumerate(built.nodes):
        if node.visit_id is not None:
            out[node.visit_id][node.half].append(i)
    return {vid: [halves[h] for h in sorted(halves)] for vid, halves in out.items()}


def _fill(built: Built, routes: Routes, halves: list[list[int]]) -> bool:
    """Give every half of a visit a round (each half a different carer); all or nothing."""
    added: list[int] = []
    for options in halves:
        if any(_holder(routes, c) is not None for c in options):
            continue
        used = {v for h in halves for c in h if (v := _holder(routes, c)) is not None}
        places = [(p, c) for c in options if (p := _best_insert(built, routes, c, used)) is not None]
        if not places:
            for c in added:
                routes[_holder(routes, c) or 0].remove(c)
            return False
        (_, vehicle, pos), client = min(places)
        _put(routes, vehicle, pos, client)
        added.append(client)
    return True


def repaired(built: Built, solution: pyvrp.Solution, order: list[str]) -> pyvrp.Solution:
    """The solution with lone halves completed or taken out, and left-out visits put in where they fit,
    in the given order of visits (the earliest first keeps the day's rounds in time order)."""
    routes: Routes = {
        r.vehicle_type(): [a.idx for a in r.schedule() if a.is_client()]
        for r in solution.routes()
        if r.is_feasible()
    }
    alternatives = _alternatives(built)
    for vid in order:
        halves = alternatives.get(vid, [])
        served = [c for h in halves for c in h if _holder(routes, c) is not None]
        if 0 < len(served) < len(halves) and not _fill(built, routes, halves):
            for c in served:
                # A double-up that cannot get both carers frees the one it has for other visits.
                routes[_holder(routes, c) or 0].remove(c)
    for vid in order:
        halves = alternatives.get(vid, [])
        if not any(_holder(routes, c) is not None for h in halves for c in h):
            _fill(built, routes, halves)
    kept = [pyvrp.Route(built.data, cs, v) for v, cs in sorted(routes.items()) if cs]
    return pyvrp.Solution(built.data, kept)
