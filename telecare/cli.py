"""The `telecare` command line."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from accounts.errors import AccountsError
from devices.errors import DevicesError
from kernel.embedded import EmbeddedError
from kernel.logs import configure_logging
from kernel.settings import Settings, SettingsError, load_settings
from rostering.errors import RosteringError
from telecare import roster_cmd
from telecare.cli_registry import add_commands, run_command

log = logging.getLogger("telecare")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telecare", description="Telecare backend.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="everything in one process: embedded servers, API, ingest, simulated homes")
    sub.add_parser("api", help="serve the HTTP API (configured database and broker)")
    sub.add_parser("ingest", help="run an ingest worker (configured database and broker)")
    sub.add_parser("detect", help="run the streaming detector that raises alerts (configured database)")
    sub.add_parser("notify", help="run the notification dispatcher: alerts to people, escalated (database)")
    sim = sub.add_parser("simulate", help="simulated homes publishing through the configured broker")
    sim.add_argument("--homes", type=int, default=3, help="number of homes (default 3)")
    sim.add_argument("--profiles", default="active,frail,dementia", help="comma-separated, used in turn")
    sim.add_argument("--days", type=int, default=1, help="simulated days (default 1)")
    sim.add_argument("--start", type=date.fromisoformat, help="first day (default: `days` days ago)")
    sim.add_argument(
        "--speed", type=float, default=0, help="virtual seconds per real second; 0: as fast as acked"
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--care-plans", action="store_true", help="a care plan per home (carer visits)")
    sim.add_argument("--incident-rate", type=float, default=0.0, help="random incidents per home-day")
    sim.add_argument("--scenario", type=Path, help="JSON lines of incidents to inject: kind, day, at (HH:MM)")
    sim.add_argument("--replay", type=Path, help="an event log: 'date time sensor value' a line")
    sim.add_argument("--mapping", type=Path, help="JSON: home, timezone, sensors (README), for --replay")
    sim.add_argument("--replay-format", choices=("lines", "tl"), default="lines")
    sim.add_argument("--labels", type=Path, help="append the incidents' ground truth here as JSON lines")
    sim.add_argument("--live", action="store_true", help="after the history, go on in real time")
    rep = sub.add_parser("replay", help="a home's event log through the detector on a virtual clock")
    rep.add_argument("log", type=Path, help="the log: 'date time sensor value' lines, or --format tl")
    rep.add_argument("--mapping", type=Path, required=True, help="JSON: home, timezone, sensors (README)")
    rep.add_argument("--format", choices=("lines", "tl"), default="lines", dest="log_format")
    rep.add_argument("--json", type=Path, help="also write the alerts here as JSON")
    rep.add_argument(
        "--through-ingest",
        action="store_true",
        help="through Mosquitto, ingest, PostgreSQL and the detector service, on servers of its own",
    )
    rep.add_argument("--data", type=Path, help="with --through-ingest: keep those servers here (reusable)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    add_commands(sub)
    roster_cmd.add_command(sub)  # rostering (issue 18)
    return parser


async def _until_signalled(parts: list[Coroutine[Any, Any, object]]) -> None:
    """Run the parts together; Ctrl-C or SIGTERM (or any part failing) stops them all."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(p) for p in parts]
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [*tasks, waiter]:
            task.cancel()
        results = await asyncio.gather(*tasks, waiter, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


def _banner(settings: Settings) -> None:
    from telecare.demo import CARER_EMAIL, COORDINATOR_EMAIL, FAMILY_EMAIL

    base = f"http://{settings.api_host}:{settings.api_port}"
    secret, token = f"{settings.data_dir}/demo.password", '"access_token"'
    print(
        f"""
  Telecare is starting.
    Console:  {base}/console/ (log in with an account below; the board, homes, a family's view)
    API:      {base}/v1
    Docs:     {base}/docs (Authorize: one of the accounts below)
    Ready:    {base}/ready
    Log in:   {settings.bootstrap_admin_email} (platform admin), {COORDINATOR_EMAIL} (coordinator),
              {FAMILY_EMAIL} (family of the first simulated home), {CARER_EMAIL} (one of its
              carers: their visits, from a phone); password in {secret}
    Token:    TOKEN=$(curl -s -d username={COORDINATOR_EMAIL} --data-urlencode password=$(cat {secret}) \\
                {base}/v1/auth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)[{token}])')
    Alerts:   curl -H "Authorization: Bearer $TOKEN" {base}/v1/alerts   (live: {base}/v1/alerts/stream)
    Homes:    curl -H "Authorization: Bearer $TOKEN" {base}/v1/homes, then /v1/homes/<home_id>/readings
    Stop:     Ctrl-C
""",
        flush=True,
    )


def _run(settings: Settings) -> None:
    from telecare.runtime import start_embedded
    from telecare.services import (
        run_demo_accounts,
        run_detector,
        run_ingest,
        run_notifier,
        run_simulator,
        serve_api,
    )

    resolved, embedded = start_embedded(settings)
    try:
        _banner(resolved)
        asyncio.run(
            _until_signalled(
                [
                    serve_api(resolved, migrations=True),
                    run_ingest(resolved),
                    run_detector(resolved),
                    run_notifier(resolved),
                    run_simulator(resolved),
                    run_demo_accounts(resolved),
                ]
            )
        )
    finally:
        embedded.stop()
        log.info("stopped")


def _migrate(settings: Settings) -> None:
    from kernel.connect import require_database_url
    from kernel.db import create_pool
    from kernel.migrate import migrate

    async def go() -> None:
        pool = await create_pool(require_database_url(settings), min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                report = await migrate(conn, storage=settings.storage)
        finally:
            await pool.close()
        applied = ", ".join(report.applied) or "nothing (up to date)"
        print(f"storage: {report.storage.describe()}; applied: {applied}")

    asyncio.run(go())


def _service(factory: Callable[[Settings], Awaitable[None]], settings: Settings) -> None:
    async def go() -> None:
        await _until_signalled([factory(settings)])  # type: ignore[list-item]

    asyncio.run(go())


def _simulate(args: argparse.Namespace, settings: Settings) -> None:
    from simulators.service import SimOptions
    from telecare.services import run_simulator

    options = SimOptions(
        homes=args.homes,
        profiles=tuple(p.strip() for p in args.profiles.split(",") if p.strip()),
        days=args.days,
        start=args.start,
        speed=args.speed or None,
        seed=args.seed,
        incident_rate=args.incident_rate,
        scenario=args.scenario,
        replay=args.replay,
        mapping=args.mapping,
        replay_format=args.replay_format,
        labels=args.labels,
        live=args.live,
        care_plans=args.care_plans,
        horizon_days=settings.visits_horizon_days,
    )

    async def go() -> None:
        summary = await run_simulator(settings, options)
        print(summary.render())

    asyncio.run(_until_signalled([go()]))


def _replay(args: argparse.Namespace) -> int:
    """Replay a log through the detector on a virtual clock (fast: no database or broker needed)."""
    import orjson

    from anomaly.config import DetectorConfig
    from simulators.replay import Mapping, ReplayError
    from simulators.replay_ingest import ReplayStalled
    from simulators.replay_run import render, report, run_log

    try:
        mapping = Mapping.load(args.mapping)
        if args.through_ingest:
            data = _replay_through_ingest(args, mapping)
        else:
            data = report(run_log(args.log, mapping, DetectorConfig(), fmt=args.log_format), mapping)
    except (ReplayError, OSError, EmbeddedError, SettingsError, ReplayStalled) as exc:
        print(f"telecare replay: {exc}", file=sys.stderr)
        return 2
    print(render(data))
    if args.json:
        args.json.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _replay_through_ingest(args: argparse.Namespace, mapping: Any) -> dict[str, Any]:
    """The log through broker, ingest, database and detector on one virtual clock, on servers of its
    own (a deployment's detector must not judge the replayed home by the wall clock)."""
    from anomaly.config import DetectorConfig
    from kernel.embedded.scratch import scratch_servers
    from simulators.replay import read_rows
    from simulators.replay_ingest import replay_through_ingest
    from simulators.replay_run import report, through_ingest_report

    rows = read_rows(args.log, mapping, fmt=args.log_format)
    base = load_settings()
    with scratch_servers(args.data, pg_bin_dir=base.pg_bin_dir) as stack:
        replay = replay_through_ingest(
            stack.settings(base), mapping, rows, DetectorConfig(), stem=args.log.stem
        )
        done = asyncio.run(replay)
    return report(done.run, mapping) | {"through_ingest": through_ingest_report(done)}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `telecare` command."""
    args = _parser().parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"telecare: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from telecare import services

    try:
        if args.command == "run":
            _run(settings)
        elif args.command == "migrate":
            _migrate(settings)
        elif args.command == "api" and settings.api_workers > 1:
            services.serve_api_workers(settings)
        elif args.command == "api":
            _service(services.serve_api, settings)
        elif args.command == "detect":
            _service(services.run_detector, settings)
        elif args.command == "notify":
            _service(services.run_notifier, settings)
        elif args.command == "ingest":
            services.serve_ingest_metrics(settings)
            _service(functools.partial(services.run_ingest, settle_heap=True), settings)
        elif args.command in ("org", "home", "device", "user"):
            run_command(args, settings)
        elif args.command == "simulate":
            _simulate(args, settings)
        elif args.command == "roster":
            return roster_cmd.run(args, settings)
    except (SettingsError, EmbeddedError, DevicesError, AccountsError, RosteringError) as exc:
        print(f"telecare: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
