"""The notification benchmark (issue 15): `python -m bench.notifications [--quick]`, also run by `make bench`.

It starts its own PostgreSQL and Mosquitto (bench.ingest's servers and load generator), a real SMTP
server (aiosmtpd) and an HTTP receiver, and `telecare ingest`, `telecare detect` and `telecare notify`
as their own processes, then measures:

- press: while the load generator offers `--rate` readings/s to ingest, `--presses` pendants (each in its
  own home, so each press is a new alert) are pressed one after another; for each, the time from the
  MQTT publish to the first email accepted by the SMTP server and to the first webhook received (p50,
  p99), split into publish-to-alert (ingest and the detector) and alert-to-email (the notifier);
- burst: `--burst` alerts committed at once across as many homes with three family members each; the
  time from the commit to the last first-step email, and whether any message arrived twice.

Results go to docs/bench/notifications.json, with the load average before and after (the machine is
shared: say so beside the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from alerts import service as alerts
from bench.ingest import alarm, db
from bench.ingest.phases import (
    DEVICE_KINDS,
    REPO,
    TOPIC_ROOT,
    Bench,
    start_workers,
    stop_workers,
    wait_subscribed,
)
from bench.notifications.people import default_policy, family_for
from bench.notifications.sinks import SmtpServer, WebhookReceiver
from devices.contract import MessageKind
from devices.dynsec import connect_admin
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.mqtt import AsyncMqttClient, MqttConfig
from simulators.load import create_rig_identity

OUT = REPO / "docs" / "bench" / "notifications.json"
TARGETS = {"press_email_p99_ms": 1000, "press_webhook_p99_ms": 1000, "burst_all_first_step_s": 10}


def _service(bench: Bench, command: str, smtp_port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TELECARE_DATABASE_URL": bench.pg.dsn(),
        "TELECARE_MQTT_URL": bench.broker.url,
        "TELECARE_MQTT_USERNAME": ADMIN_USER,
        "TELECARE_MQTT_PASSWORD": bench.broker.admin_password,
        "TELECARE_MQTT_TOPIC_ROOT": TOPIC_ROOT,
        "TELECARE_NOTIFY_SMTP_HOST": "127.0.0.1",
        "TELECARE_NOTIFY_SMTP_PORT": str(smtp_port),
        **extra,
    }
    with open(bench.root / f"{command}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "telecare.cli", command],
            env=env,
            cwd=bench.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def _wait_log(bench: Bench, command: str, line: str, proc: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(120):
        while line not in (bench.root / f"{command}.log").read_text():
            assert proc.poll() is None, f"{command} exited; see its log"
            await asyncio.sleep(0.1)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1)


async def _rig(bench: Bench) -> MqttConfig:
    admin_cfg = MqttConfig(
        "127.0.0.1", bench.broker.port, "bench-admin", ADMIN_USER, bench.broker.admin_password
    )
    async with connect_admin(admin_cfg) as admin:
        user = await create_rig_identity(admin, topic_root=TOPIC_ROOT, password="bench-rig")
    from bench.ingest import load

    bench.rig = load.Broker("127.0.0.1", bench.broker.port, user, "bench-rig")
    return MqttConfig("127.0.0.1", bench.broker.port, "bench-presser", user, "bench-rig")


async def phase_press(
    bench: Bench, smtp: SmtpServer, hooks: WebhookReceiver, presser: MqttConfig
) -> dict[str, Any]:
    """Pendant presses under ingest load: publish to first email and to first webhook."""
    args = bench.args
    seconds = args.presses * args.interval + 10
    load_task = asyncio.create_task(
        bench.publish(bench.plan(duration_s=seconds, rate_per_s=args.rate), "load")
    )
    client = AsyncMqttClient(presser)
    await client.connect()
    published: dict[str, float] = {}
    try:
        await asyncio.sleep(5)  # the load is flowing before the first press
        for home, device, _ in bench.pendants:
            payload = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 1})
            published[home] = time.time()
            await client.publish(f"{TOPIC_ROOT}/v1/{home}/{device}/alarm", payload)
            await asyncio.sleep(args.interval)
        report = await load_task
    finally:
        await client.disconnect()
    async with asyncio.timeout(60):
        while sum(1 for h in published if smtp.inbox.arrivals.get(_press_email(h))) < len(published):
            await asyncio.sleep(0.2)
    inbox = smtp.inbox.arrivals
    email = [inbox[_press_email(h)][0] - t for h, t in published.items()]
    webhook = [hooks.arrivals[h][0] - t for h, t in published.items() if hooks.arrivals.get(h)]
    conn = await asyncpg.connect(bench.pg.dsn())
    try:
        rows = await conn.fetch(
            "SELECT home_id, extract(epoch FROM created_at) AS at FROM alerts WHERE kind = 'alarm_pressed'"
        )
    finally:
        await conn.close()
    raised = {str(r["home_id"]): float(r["at"]) for r in rows}
    to_alert = [raised[h] - t for h, t in published.items() if h in raised]
    alert_to_email = [inbox[_press_email(h)][0] - raised[h] for h in published if h in raised]
    return {
        "presses": len(published),
        "offered_readings_per_s": round(report.offered_per_s),
        "email_p50_ms": _pct(email, 0.5),
        "email_p99_ms": _pct(email, 0.99),
        "email_max_ms": round(max(email) * 1000, 1),
        "webhook_p50_ms": _pct(webhook, 0.5) if webhook else None,
        "webhook_p99_ms": _pct(webhook, 0.99) if webhook else None,
        "webhooks_received": len(webhook),
        "publish_to_alert_p50_ms": _pct(to_alert, 0.5),
        "publish_to_alert_p99_ms": _pct(to_alert, 0.99),
        "alert_to_email_p50_ms": _pct(alert_to_email, 0.5),
        "alert_to_email_p99_ms": _pct(alert_to_email, 0.99),
        "email_mean_ms": round(statistics.fmean(email) * 1000, 1),
    }


def _press_email(home: str) -> str:
    return f"press-{home}-0@bench.example"


async def phase_burst(bench: Bench, smtp: SmtpServer) -> dict[str, Any]:
    """`--burst` alerts committed at once, three family members each: commit to the last first-step email."""
    n = bench.args.burst
    pool = await create_pool(bench.pg.dsn(), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            org = await conn.fetchval("INSERT INTO organisations (name) VALUES ('Burst') RETURNING id")
            homes: list[UUID] = [
                r["id"]
                for r in await conn.fetch(
                    "INSERT INTO homes (organisation_id, name)"
                    " SELECT $1, 'Burst ' || g FROM generate_series(1, $2) g RETURNING id",
                    org,
                    n,
                )
            ]
            await family_for(conn, homes, per_home=3, prefix="burst")
            await default_policy(conn, organisation_id=org, webhook_url=None)
            before = smtp.inbox.total()
            async with conn.transaction():
                for home in homes:
                    await alerts.raise_or_update(conn, _signal(home))
            committed = time.time()
    finally:
        await pool.close()
    expected = before + 3 * n
    async with asyncio.timeout(120):
        while smtp.inbox.total() < expected:
            await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # anything sent twice would have arrived by now
    burst = {a: t for a, t in smtp.inbox.arrivals.items() if a.startswith("burst-")}
    last = max(times[0] for times in burst.values())
    twice = sum(1 for times in burst.values() if len(times) > 1)
    return {
        "alerts": n,
        "recipients": len(burst),
        "all_first_step_s": round(last - committed, 2),
        "first_email_s": round(min(times[0] for times in burst.values()) - committed, 3),
        "received_twice": twice,
        "emails_per_s": round(3 * n / max(last - committed, 1e-9)),
    }


def _signal(home: UUID) -> alerts.Signal:
    return alerts.Signal(
        home_id=home,
        kind="alarm_pressed",
        severity="critical",
        dedupe_key="burst",
        triggered_at=datetime.now(UTC),
        title="Alarm pressed",
        explanation="The pendant's button was pressed.",
    )


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Both phases against private servers; the results."""
    pg, broker = EmbeddedPostgres(root / "pg", free_port()), EmbeddedMosquitto(root / "mqtt", free_port())
    db.start_servers(pg, broker)
    procs: list[subprocess.Popen[bytes]] = []
    bench = Bench(root, pg, broker, args)
    try:
        with SmtpServer(root) as smtp, WebhookReceiver() as hooks:
            bench.storage, devices = await db.register_devices(
                pg.dsn(), args.presses, DEVICE_KINDS, args.presses
            )
            bench.devices = tuple(d for d in devices if d[2] is not MessageKind.ALARM)
            bench.pendants = tuple(d for d in devices if d[2] is MessageKind.ALARM)
            presser = await _rig(bench)
            conn = await asyncpg.connect(pg.dsn())
            try:
                homes = [UUID(h) for h, _, _ in bench.pendants]
                await family_for(conn, homes, per_home=1, prefix="press")
                org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", homes[0])
                await default_policy(conn, organisation_id=org, webhook_url=hooks.url)
            finally:
                await conn.close()
            start_workers(bench, 1)
            await wait_subscribed(bench)
            senders = {"TELECARE_NOTIFY_SENDERS": str(args.senders), "TELECARE_LOG_LEVEL": "INFO"}
            procs.append(_service(bench, "detect", smtp.port, {"TELECARE_LOG_LEVEL": "INFO"}))
            procs.append(_service(bench, "notify", smtp.port, senders))
            await _wait_log(bench, "detect", "running:", procs[0])
            await _wait_log(bench, "notify", "notifier ready", procs[1])
            load_before = alarm.load_average()
            press = await phase_press(bench, smtp, hooks, presser)
            burst = await phase_burst(bench, smtp)
            load_after = alarm.load_average()
    finally:
        stop_workers(bench)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        broker.stop()
        pg.stop()
    return {
        "press": press,
        "burst": burst,
        "load_before": load_before,
        "load_after": load_after,
        "storage": bench.storage,
    }


def summarise(args: argparse.Namespace, res: dict[str, Any], started: float) -> dict[str, Any]:
    """The JSON document: headline figures, targets, details."""
    press, burst = res["press"], res["burst"]
    head = {
        "press_email_p50_ms": press["email_p50_ms"],
        "press_email_p99_ms": press["email_p99_ms"],
        "press_webhook_p50_ms": press["webhook_p50_ms"],
        "press_webhook_p99_ms": press["webhook_p99_ms"],
        "offered_readings_per_s": press["offered_readings_per_s"],
        "burst_all_first_step_s": burst["all_first_step_s"],
        "burst_received_twice": burst["received_twice"],
    }
    met = {k: head[k] is not None and head[k] <= v for k, v in TARGETS.items()}
    met["burst_none_twice"] = burst["received_twice"] == 0
    return {
        **head,
        "targets": {
            **{k: f"<= {v}" for k, v in TARGETS.items()},
            "burst_none_twice": "== 0",
            "offered_readings_per_s": "the issue asks 15000; this machine's ceiling is ~10-13k/s",
        },
        "met": met,
        "all_met": all(met.values()),
        "mode": "quick" if args.quick else "full",
        "press": press,
        "burst": burst,
        "machine": {
            "cores": os.cpu_count(),
            "storage": res["storage"],
            "load_average_before": res["load_before"],
            "load_average_after": res["load_after"],
            "shared": "the machine is shared with other work",
        },
        "bench_seconds": round(time.monotonic() - started, 1),
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="20 presses at 2,000 readings/s, a burst of 200")
    p.add_argument("--presses", type=int, help="pendant presses (default 60)")
    p.add_argument("--rate", type=float, help="readings/s offered to ingest meanwhile (default 10000)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between presses")
    p.add_argument("--burst", type=int, help="alerts at once (default 1000)")
    p.add_argument("--senders", type=int, default=16, help="TELECARE_NOTIFY_SENDERS of the notifier")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    quick = args.quick
    args.presses = args.presses or (20 if quick else 60)
    args.rate = args.rate or (2000.0 if quick else 10000.0)
    args.burst = args.burst or (200 if quick else 1000)
    return args


def main(argv: list[str] | None = None) -> None:
    """Run, write the JSON, print a summary."""
    args = parse_args(argv)
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    os.chmod(root, 0o755)
    try:
        res = asyncio.run(run(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    doc = summarise(args, res, started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    print(
        f"notifications bench ({doc['mode']}): press->email p50 {doc['press_email_p50_ms']} / p99"
        f" {doc['press_email_p99_ms']} ms, ->webhook p50 {doc['press_webhook_p50_ms']} / p99"
        f" {doc['press_webhook_p99_ms']} ms at {doc['offered_readings_per_s']} readings/s offered;"
        f" burst of {res['burst']['alerts']}: all first-step emails in {doc['burst_all_first_step_s']} s,"
        f" {doc['burst_received_twice']} twice; load {res['load_before']} -> {res['load_after']};"
        f" all met: {doc['all_met']}; written to {args.out}"
    )


if __name__ == "__main__":
    main()
