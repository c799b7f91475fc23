"""The fleet's publisher for the benchmark: the fleet model (simulators/fleet.py) through the ingest
benchmark's lean paho publisher, in a process of its own.

Every hub's messages go over one connection with the benchmark's role (allowed under the whole topic
root): the hubs' ACLs are tested in tests/devices/test_hubs.py, and 100,000 paho connections do not fit
in one process. Events are stamped when generated, just before they are published, so event-to-commit
is publish-to-commit. `speed=None` publishes as fast as the window allows (the ceiling phase).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bench.ingest import load
from simulators.fleet import FleetClock

TICK_S = 0.01


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """What the fleet publisher sends, and for how long."""

    topic_root: str
    homes: int
    readings_per_s: float
    duration_s: float
    first_seq: int
    heartbeat_s: float = 300.0
    alarm_every_s: float | None = 0.2
    fast: bool = False  # as fast as acknowledged, simulated time running ahead of the wall clock
    window: int = 2000
    seed: int = 1


@dataclass(frozen=True, slots=True)
class FleetReport:
    """What the fleet publisher did."""

    messages: int
    readings: int
    alarms: int
    acked: int
    retries: int
    reconnects: int
    first_publish: float
    last_publish: float
    last_ack: float
    error: str | None = None


class FleetPublisher(load.Publisher):
    """The lean publisher driven by the fleet model instead of a round-robin over devices."""

    def __init__(self, broker: load.Broker, plan: FleetPlan, client_id: str) -> None:
        super().__init__(
            broker, load.Plan(plan.topic_root, (), plan.first_seq, window=plan.window), client_id
        )
        self.fleet_plan = plan
        self.fleet = FleetClock(
            homes=plan.homes,
            topic_root=plan.topic_root,
            readings_per_s=plan.readings_per_s,
            heartbeat_s=plan.heartbeat_s,
            flush_s=0.0,
            hour=8,  # the morning peak
            alarm_every_s=plan.alarm_every_s,
            seed=plan.seed,
            first_seq=plan.first_seq,
            spread=False,
        )
        self.fleet.warm()
        self.readings = self.alarms = 0

    def run_fleet(self) -> FleetReport:
        """Publish the plan; wait for the last acknowledgements."""
        plan = self.fleet_plan
        start = time.time()
        clock = start
        while (time.time() if not plan.fast else clock) < start + plan.duration_s:
            now = time.time() if not plan.fast else clock + TICK_S
            for message in self.fleet.step(clock, now):
                while len(self.unacked) >= plan.window:
                    self.pump(timeout=TICK_S)
                self._send(message.topic, message.payload)
                self.readings += message.readings
                self.alarms += message.alarm
                self.sent += 1
                self.last = time.time()
                if not self.first:
                    self.first = self.last
            clock = now
            self.pump(timeout=0.0 if plan.fast else max(0.0, clock + TICK_S - time.time()))
        deadline = time.time() + 120
        while self.unacked and time.time() < deadline:
            self.pump(timeout=0.05)
        self.client.disconnect()
        self.client.flush()
        error = None if not self.unacked else f"{len(self.unacked)} messages never acknowledged"
        return FleetReport(
            self.sent,
            self.readings,
            self.alarms,
            self.acked,
            self.retries,
            self.reconnects,
            self.first,
            self.last,
            self.last_ack,
            error,
        )


def _main(broker: load.Broker, plan: FleetPlan, client_id: str, out: Connection) -> None:
    try:
        out.send(FleetPublisher(broker, plan, client_id).run_fleet())
    except Exception as exc:  # reported to the parent, which fails the bench
        out.send(FleetReport(0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, f"{type(exc).__name__}: {exc}"))


def start_fleet_publisher(broker: load.Broker, plan: FleetPlan, client_id: str) -> load.Child:
    """Start the fleet publisher process; its FleetReport comes back through `receive`."""
    return load.Child(_main, broker, plan, client_id)
