"""The solver on public VRPTW instances: Solomon's 100-customer C1, R1 and RC1 sets, 30 s each, gap to the
best-known solutions.

The instances are not committed. They are taken at run time from a PyPI package that ships them: the
VRPSolverEasy wheel (MIT licence) carries all 29 of C1, R1 and RC1 in its demos (demos/data/CVRPTW/), and is
fetched with pip into a git-ignored cache (var/bench-cache/). It is never installed: only the text files
are read, with vrplib's Solomon reader (vrplib comes with PyVRP).

Distances follow the DIMACS 2021 VRPTW challenge convention (Euclidean, scaled by 10 and truncated), the
convention of the distance-only optima below; travel time equals distance, as in Solomon's definition.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyvrp
import vrplib
from pyvrp.stop import MaxRuntime

CACHE = Path(__file__).resolve().parents[2] / "var" / "bench-cache" / "solomon"
WHEEL_PACKAGE = "VRPSolverEasy==0.1.4"
MEMBER = "VRPSolverEasy/demos/data/CVRPTW/{name}.txt"
# Best-known (all proven optimal) distances with the DIMACS convention, minimising distance alone: the
# DIMACS 2021 VRPTW challenge's Solomon BKS, the optima of Kohl, Desrosiers, Madsen, Solomon and Soumis
# (1999), Transportation Science 33(1), and of the later exact methods (Baldacci, Mingozzi and Roberti
# (2011), Operations Research 59(5), for the hardest of them).
BEST_KNOWN = {
    **{f"C10{n}": 827.3 for n in range(1, 10)},
    "C103": 826.3,
    "C104": 822.9,
    "R101": 1637.7,
    "R102": 1466.6,
    "R103": 1208.7,
    "R104": 971.5,
    "R105": 1355.3,
    "R106": 1234.6,
    "R107": 1064.6,
    "R108": 932.1,
    "R109": 1146.9,
    "R110": 1068.0,
    "R111": 1048.7,
    "R112": 948.6,
    "RC101": 1619.8,
    "RC102": 1457.4,
    "RC103": 1258.0,
    "RC104": 1132.3,
    "RC105": 1513.7,
    "RC106": 1372.7,
    "RC107": 1207.8,
    "RC108": 1114.2,
}


def fetch(names: list[str]) -> dict[str, Path]:
    """The instance files, from the cache or from the PyPI wheel that ships them."""
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {n: CACHE / f"{n}.txt" for n in names}
    if all(p.exists() for p in paths.values()):
        return paths
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), WHEEL_PACKAGE],
        check=True,
    )
    wheel = next(CACHE.glob("VRPSolverEasy-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        for name, path in paths.items():
            path.write_bytes(archive.read(MEMBER.format(name=name)))
    return paths


def problem_data(path: Path) -> pyvrp.ProblemData:
    """A Solomon instance as PyVRP data: capacity, time windows, service times, truncated distances."""
    inst: dict[str, Any] = vrplib.read_instance(str(path), instance_format="solomon")
    coords = np.asarray(inst["node_coord"], dtype=np.float64)
    diff = coords[:, None, :] - coords[None, :, :]
    dist = np.floor(10 * np.sqrt((diff**2).sum(axis=2))).astype(np.int64)
    early = (10 * np.asarray(inst["time_window"])[:, 0]).astype(np.int64)
    late = (10 * np.asarray(inst["time_window"])[:, 1]).astype(np.int64)
    service = (10 * np.asarray(inst["service_time"])).astype(np.int64)
    demand = np.asarray(inst["demand"], dtype=np.int64)
    locations = [pyvrp.Location(float(x), float(y)) for x, y in coords]
    depot = pyvrp.Depot(location=0, tw_early=int(early[0]), tw_late=int(late[0]))
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[int(demand[i])],
            service_duration=int(service[i]),
            tw_early=int(early[i]),
            tw_late=int(late[i]),
        )
        for i in range(1, len(coords))
    ]
    vehicles = pyvrp.VehicleType(
        num_available=int(inst["vehicles"]),
        capacity=[int(inst["capacity"])],
        tw_early=int(early[0]),
        tw_late=int(late[0]),
    )
    return pyvrp.ProblemData(locations, clients, [depot], [vehicles], [dist], [dist])


def run(seconds: float = 30.0) -> dict[str, Any]:
    """Solve each instance for `seconds` and report the gap to the best-known distance."""
    rows: list[dict[str, Any]] = []
    for name, path in fetch(sorted(BEST_KNOWN)).items():
        data = problem_data(path)
        began = time.monotonic()
        load = os.getloadavg()[0]
        result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=1, display=False)
        best = result.best
        distance = best.distance() / 10
        rows.append(
            {
                "instance": name,
                "feasible": best.is_feasible(),
                "routes": best.num_routes(),
                "distance": round(distance, 1),
                "best_known": BEST_KNOWN[name],
                "gap_pct": round(100 * (distance - BEST_KNOWN[name]) / BEST_KNOWN[name], 2),
                "seconds": round(time.monotonic() - began, 1),
                "iterations": result.num_iterations,
                "load_1m_before": round(load, 2),
            }
        )
        print(f"  {name}: {distance:.1f} vs {BEST_KNOWN[name]} ({rows[-1]['gap_pct']} %)", flush=True)
    gaps: list[float] = sorted(float(r["gap_pct"]) for r in rows)
    return {
        "instances": rows,
        "set": "Solomon C1, R1, RC1: all 29 instances of 100 customers",
        "time_limit_s": seconds,
        "median_gap_pct": float(np.median(gaps)),
        "median_gap_pct_by_set": {
            kind: float(np.median([r["gap_pct"] for r in rows if r["instance"].rstrip("0123456789") == kind]))
            for kind in ("C", "R", "RC")
        },
        "target_median_gap_pct": 2.0,
        "met": bool(np.median(gaps) <= 2.0) and all(r["feasible"] for r in rows),
    }
