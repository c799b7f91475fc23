"""The visits evaluation (`make eval`, `python -m bench.visits.evaluate`): a simulated month of homes,
each with its care plan and care team, whose carers check in by tag and by phone and sometimes arrive
late, leave early, do not come, forget to check out, check in by phone from the street without going in,
or tap their tag at the wrong home. Everything runs through the product's code on a real database and
one virtual clock (bench/visits/drive.py); per outcome the JSON gives labels, caught, precision, recall
and the delay from the moment the rule could first know to the alert. Writes docs/eval/visits.json and
docs/eval/visits.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from bench.visits import drive, report, score, world
from kernel.db import create_pool
from kernel.embedded import EmbeddedPostgres
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.settings import StorageMode
from simulators.checkins import Habits
from visits.checkins import CheckConfig

DOCS = Path(__file__).resolve().parents[2] / "docs" / "eval"
# Slips more often than a good team makes them, so that a month holds enough of each to score.
HABITS = Habits(phone_p=0.4, no_checkout_p=0.03, phone_outside_p=0.03, wrong_home_p=0.02, offline_p=0.05)


async def evaluate(dsn: str, *, homes: int, days: int, start: date, seed: int) -> dict[str, Any]:
    """Build the world, run the month, score it."""
    pool = await create_pool(dsn, min_size=2, max_size=4)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, storage=StorageMode.POSTGRES)
            began = time.monotonic()
            built = await world.build(conn, homes=homes, start=start, days=days, habits=HABITS, seed=seed)
            await conn.execute("ANALYZE")
        setup_s = time.monotonic() - began
        visits = sum(len(h.visits) for h in built.homes)
        print(f"world: {homes} homes, {visits} visits, built in {setup_s:.0f}s", flush=True)
        began = time.monotonic()
        raised = await drive.run(pool, built, config=CheckConfig())
        run_s = time.monotonic() - began
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT visit_id, verdict FROM visit_verifications")
            # Alerts withdrawn because an event sent late showed them unfounded (visits.alerting.withdrawn).
            withdrawn = await conn.fetch(
                "SELECT dedupe_key FROM alerts WHERE source = 'visits' AND resolution = 'cancelled' "
                "AND resolution_note LIKE 'withdrawn:%'"
            )
        result = score.score(built, raised, frozenset(r["dedupe_key"] for r in withdrawn))
        result["verdicts_by_outcome"] = score.verdicts(rows, built)
        result["targets_met"] = score.targets(result)
        result["run"] = {
            "homes": homes,
            "days": days,
            "start": start.isoformat(),
            "seed": seed,
            "visits": visits,
            "wrong_home_taps": sum(len(h.stream.strays) for h in built.homes),
            "habits": {k: getattr(HABITS, k) for k in HABITS.__slots__},
            "setup_s": round(setup_s, 1),
            "run_s": round(run_s, 1),
            "load_average_before": list(os.getloadavg()),
        }
        return result
    finally:
        await pool.close()


def main() -> None:
    """Start a database of its own, evaluate, write the JSON and the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    # A month across the end of British summer time (25 October 2026).
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 5))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DOCS / "visits.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="telecare-visits-eval-"))
    os.chmod(root, 0o755)
    pg = EmbeddedPostgres(root / "pg", free_port(), preload_timescaledb=False, fast_unsafe=True)
    load = os.getloadavg()
    pg.start()
    try:
        result = asyncio.run(
            evaluate(pg.dsn(), homes=args.homes, days=args.days, start=args.start, seed=args.seed)
        )
    finally:
        pg.stop()
    result["run"]["load_average_before"] = [round(x, 2) for x in load]
    result["run"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    args.out.with_suffix(".md").write_text(report.markdown(result))
    print(report.markdown(result))


if __name__ == "__main__":
    main()
