"""Running simulations: homes from profiles or a replayed log, provisioned and published, with a summary."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import orjson

from devices import queries as device_queries
from devices.dynsec import DynsecAdmin
from homes import queries as home_queries
from simulators.care_team import staff_homes
from simulators.home import simulate_home
from simulators.layouts import DeviceSpec
from simulators.model import HomeStream, ScenarioItem
from simulators.plans import create_plans
from simulators.publisher import Sent, SimulatedHome, provision_home, publish_homes
from simulators.replay import Mapping, Sensor, load_replay, replay_home_name

log = logging.getLogger(__name__)

SIM_ORGANISATION = "Simulated homes"
LAYOUT_FOR = {"active": "flat", "frail": "bungalow", "dementia": "house"}


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What to simulate and how fast."""

    homes: int = 3
    profiles: tuple[str, ...] = ("active", "frail", "dementia")
    days: int = 1
    start: date | None = None
    speed: float | None = None
    seed: int = 1
    incident_rate: float = 0.0
    scenario: Path | None = None
    replay: Path | None = None
    mapping: Path | None = None
    replay_format: str = "lines"
    labels: Path | None = None
    live: bool = False
    care_plans: bool = False  # a care plan per home from its profile's carer slots (visits)
    horizon_days: int = 14


@dataclass
class Summary:
    """What a simulation sent."""

    homes: list[str] = field(default_factory=list)
    per_kind: Counter[str] = field(default_factory=Counter)
    incidents: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    def render(self) -> str:
        """A few lines for people."""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.per_kind.items()))
        incidents = ", ".join(f"{k} {n}" for k, n in sorted(self.incidents.items())) or "none"
        return (
            f"homes: {len(self.homes)}; messages: {sum(self.per_kind.values())} ({kinds}); "
            f"duplicates sent on purpose: {self.duplicates}; incidents injected: {incidents}"
        )

    def add(self, sent: Sent) -> None:
        """Count what a publish run sent."""
        self.per_kind.update(sent.per_kind)
        self.duplicates += sent.duplicates


def build_streams(options: SimOptions, *, today: date) -> list[tuple[HomeStream, list[DeviceSpec] | None]]:
    """The homes' streams: simulated from profiles, or one replayed log."""
    if options.replay is not None:
        if options.mapping is None:
            raise ValueError("--replay needs --mapping")
        now = datetime.now(UTC)
        mapping = Mapping.load(options.mapping)
        # A home of its own per replay; the log moved by whole weeks to end now, so storage retention
        # (TELECARE_RETENTION_DAYS) keeps what was just replayed and the home's local times are kept.
        name = replay_home_name(mapping, options.replay.stem, now)
        stream, specs = load_replay(
            options.replay,
            mapping,
            home_name=name,
            start=now if options.live else None,
            recent=None if options.live else now,
            fmt=options.replay_format,
        )
        return [(stream, specs)]
    scenario = _scenario(options.scenario) if options.scenario else None
    start = options.start or (today - timedelta(days=options.days if not options.live else 1))
    streams: list[tuple[HomeStream, list[DeviceSpec] | None]] = []
    for i in range(options.homes):
        profile = options.profiles[i % len(options.profiles)]
        streams.append(
            (
                simulate_home(
                    seed=options.seed + i,
                    profile=profile,
                    layout=LAYOUT_FOR.get(profile, "flat"),
                    start=start,
                    days=options.days + (1 if options.live else 0),
                    incident_rate=options.incident_rate,
                    scenario=scenario,
                    home_name=f"Sim home {i + 1} ({profile})",
                ),
                None,
            )
        )
    return streams


def _scenario(path: Path) -> list[ScenarioItem]:
    items = []
    for line in path.read_text().splitlines():
        if line.strip():
            data = orjson.loads(line)
            at = data.get("at")
            items.append(
                ScenarioItem(
                    kind=data["kind"],
                    day=int(data.get("day", 0)),
                    at=datetime.strptime(at, "%H:%M").time() if at else None,
                    duration_min=data.get("duration_min"),
                    device_key=data.get("device_key"),
                )
            )
    return items


async def simulate(
    pool: asyncpg.Pool, admin: DynsecAdmin, options: SimOptions, *, topic_root: str, mqtt_url: str
) -> Summary:
    """Provision the homes, write the labels, publish (then go on in real time if `live`)."""
    streams = build_streams(options, today=datetime.now(UTC).date())
    async with pool.acquire() as conn:
        org = await conn.fetchval("SELECT id FROM organisations WHERE name = $1", SIM_ORGANISATION)
        if org is None:
            org = await home_queries.insert_organisation(conn, name=SIM_ORGANISATION)
    sensors = Mapping.load(options.mapping).by_key() if options.replay and options.mapping else None
    homes = [
        await provision(pool, admin, org, stream, specs, topic_root, sensors) for stream, specs in streams
    ]
    summary = Summary(homes=[h.stream.home_name for h in homes])
    if options.care_plans:
        async with pool.acquire() as conn, conn.transaction():
            start = min(h.stream.start for h in homes) if homes else datetime.now(UTC).date()
            made = await create_plans(
                conn,
                [(h.home_id, h.stream.profile) for h in homes],
                starts_on=start,
                # As of the eve of the first simulated day: its visits are made too, not only those to come.
                now=datetime.combine(start, time.min, UTC) - timedelta(days=1),
                # Over every simulated day from that eve, and the plan's horizon beyond today.
                horizon_days=(datetime.now(UTC).date() - start).days + 1 + options.horizon_days,
            )
            staffed = await staff_homes(conn, [(h.home_id, h.stream) for h in homes], organisation_id=org)
        log.info("care plans created for %d simulated homes, %d visits staffed", made, staffed)
    for home in homes:
        summary.incidents.update(i.kind for i in home.stream.incidents)
    if options.labels:
        with options.labels.open("a") as labels:
            for home in homes:
                labels.writelines(f"{i.to_json_line()}\n" for i in home.stream.incidents)
    url = urlsplit(mqtt_url)
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    now = datetime.now(UTC)
    until = now if options.live else None
    summary.add(
        await publish_homes(
            homes,
            host=host,
            port=port,
            topic_root=topic_root,
            speed=None if options.live else options.speed,
            until=until,
        )
    )
    log.info("simulation so far: %s", summary.render())
    if options.live:
        summary.add(
            await publish_homes(homes, host=host, port=port, topic_root=topic_root, speed=1.0, since=now)
        )
    return summary


async def provision(
    pool: asyncpg.Pool,
    admin: DynsecAdmin,
    org: UUID,
    stream: HomeStream,
    specs: list[DeviceSpec] | None,
    topic_root: str,
    sensors: dict[str, Sensor] | None = None,
) -> SimulatedHome:
    """Provision one home's devices, with the replay mapping's roles and event-only flags if given."""
    home = await provision_home(
        pool,
        admin,
        topic_root=topic_root,
        organisation_id=org,
        stream=stream,
        tz=stream.tz,
        specs=specs,
    )
    if sensors:
        async with pool.acquire() as conn:
            for key, ident in home.identities.items():
                sensor = sensors.get(key)
                if sensor is not None:
                    await device_queries.set_device_kit(
                        conn, device_id=ident.device_id, role=sensor.role, event_only=sensor.event_only
                    )
    return home
