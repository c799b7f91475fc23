"""The home's surroundings and devices' health: room temperatures, heartbeats, status and batteries."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from devices.contract import MessageKind
from simulators.layouts import DeviceSpec, Layout
from simulators.model import Incident
from simulators.profiles import Profile
from simulators.timeline import Emit, LocalClock, seconds, sub_rng

GRID_S = 300  # the house temperature model steps in 5-minute intervals
READING_S = 900  # temperature sensors report every 15 minutes
COLD_C = 16.0
NIGHT_SETBACK_C = 17.5  # heating keeps at least this at night, so a working home never reads below 16
HEATING_HOURS = (6.5, 22.5)
ROOM_OFFSET_C = {"lounge": 0.3, "kitchen": 0.4, "bedroom": -0.6}
NOISE_C = 0.25
# The largest amount a reading can sit above the house temperature: offset, noise and rounding.
READING_MARGIN_C = max(ROOM_OFFSET_C.values()) + NOISE_C + 0.05
FAILURE_FLOOR_C = 6.0  # a cold_home incident stands for a heating failure in cold weather
FAILURE_TAU_H = 12.0  # without heating the house loses about 60 % of its warmth to outdoors in 12 hours
STATUS_S = 6 * 3600
FIRMWARE = {"pendant": "3.1.0", "wrist_wearable": "2.7.4", "smart_plug": "1.12.0", "nfc_reader": "4.0.2"}
DRAIN_PER_DAY = {"pendant": 0.4, "wrist_wearable": 0.9, "temperature_sensor": 0.08}


def _outdoor(clock: LocalClock, moment: datetime, anomaly: float) -> float:
    """UK-like outdoor air: a seasonal curve, a daily swing peaking mid-afternoon, and weather."""
    local = clock.local(moment)
    day_of_year = local.timetuple().tm_yday
    seasonal = 10.5 - 6.5 * math.cos(2 * math.pi * (day_of_year - 20) / 365)
    hour = local.hour + local.minute / 60
    return seasonal + 3.5 * math.sin(2 * math.pi * (hour - 9) / 24) + anomaly


def _in_any(moment: datetime, windows: tuple[tuple[datetime, datetime], ...]) -> bool:
    return any(start <= moment < end for start, end in windows)


@dataclass(slots=True, frozen=True)
class Heating:
    """The heating schedule and the periods it has failed."""

    setpoint: float
    off: tuple[tuple[datetime, datetime], ...]


def _step(temp: float, outdoor: float, hour: float, failed: bool, heating: Heating) -> float:
    """One 5-minute step: the heating pulls up to its setpoint, otherwise the house drifts outdoors."""
    dt_h = GRID_S / 3600
    wanted = heating.setpoint if HEATING_HOURS[0] <= hour < HEATING_HOURS[1] else NIGHT_SETBACK_C
    if failed:
        return temp + (min(outdoor, FAILURE_FLOOR_C) - temp) * dt_h / FAILURE_TAU_H
    if temp < wanted:
        return min(wanted, temp + (wanted + 0.5 - temp) * dt_h / 0.75)
    # Sun, cooking and people keep a house a few degrees above the outdoor air.
    return temp + (outdoor + 3 - temp) * dt_h / 12


def house_temperatures(
    *, clock: LocalClock, start: datetime, end: datetime, heating: Heating, seed: int
) -> list[tuple[datetime, float]]:
    """House air temperature on a 5-minute grid from start to end."""
    rng = sub_rng(seed, "weather")
    anomaly, temp, out = 0.0, heating.setpoint, []
    moment = start
    step = 0
    while moment < end:
        if step % 12 == 0:  # the weather changes hourly, slowly (autoregressive, about 2.5 degrees spread)
            anomaly = 0.97 * anomaly + rng.gauss(0, 0.6)
        local = clock.local(moment)
        hour = local.hour + local.minute / 60
        temp = _step(temp, _outdoor(clock, moment, anomaly), hour, _in_any(moment, heating.off), heating)
        out.append((moment, temp))
        moment, step = seconds(moment, GRID_S), step + 1
    return out


def _cold_spans(grid: list[tuple[datetime, float]]) -> list[tuple[datetime, datetime, float]]:
    """Runs of grid points where every room's reading must be below 16 degrees, with the lowest value."""
    spans, run = [], []
    for moment, temp in [*grid, (grid[-1][0], 99.0)] if grid else []:
        if temp + READING_MARGIN_C < COLD_C:
            run.append((moment, temp))
        elif run:
            spans.append((run[0][0], run[-1][0], min(t for _, t in run)))
            run = []
    return spans


def temperature_readings(
    *, home: str, layout: Layout, profile: Profile, clock: LocalClock, start: date, days: int, seed: int,
    heating_off: tuple[tuple[datetime, datetime], ...] = (),
) -> tuple[list[Emit], list[Incident]]:  # fmt: skip
    """Every temperature sensor's 15-minute readings, and a cold_home label per cold spell."""
    begin, end = clock.at(start, 0), clock.at(start, days * 1440)
    grid = house_temperatures(
        clock=clock, start=begin, end=end, heating=Heating(profile.heating_setpoint, heating_off), seed=seed
    )
    out = []
    for spec in (d for d in layout.devices if d.type == "temperature_sensor"):
        rng = sub_rng(seed, "temp", spec.key)
        offset = ROOM_OFFSET_C.get(spec.room, 0.0)
        moment = seconds(begin, rng.uniform(0, READING_S))
        while moment < end:
            temp = grid[int((moment - begin).total_seconds() // GRID_S)][1]
            value = round(temp + offset + rng.uniform(-NOISE_C, NOISE_C), 1)
            out.append(Emit(moment, spec.key, MessageKind.TEMPERATURE, {"celsius": value}))
            moment = seconds(moment, READING_S + rng.uniform(-2, 2))
    labels = [
        Incident(home, "cold_home", first, last, detail=f"house down to {low:.1f} C")
        for first, last, low in _cold_spans(grid)
    ]
    return out, labels


def _battery(
    spec: DeviceSpec, moment: datetime, begin: datetime, full: float, lows: list[tuple[datetime, datetime]]
) -> int:
    """Battery percent: a slow drain; during a low-battery fault a failing cell; new cells after it."""
    drain = DRAIN_PER_DAY.get(spec.type, 0.03)
    since, level = begin, full
    for low_start, low_end in lows:
        if low_start <= moment < low_end:
            return max(3, 14 - int((moment - low_start).total_seconds() // (8 * 3600)))
        if low_end <= moment:
            since, level = low_end, 100.0
    return max(15, int(level - drain * (moment - since).total_seconds() / 86400))


def _status(spec: DeviceSpec, moment: datetime, battery: int | None, rssi: float, boot: datetime) -> Emit:
    fields: dict[str, object] = {"firmware": FIRMWARE.get(spec.type, "2.4.1")}
    if battery is not None:
        fields["battery"] = battery
    fields["rssi_dbm"] = int(min(-30, max(-110, rssi)))
    fields["uptime_s"] = int((moment - boot).total_seconds())
    return Emit(moment, spec.key, MessageKind.STATUS, fields)


def _device_health(
    spec: DeviceSpec,
    begin: datetime,
    end: datetime,
    rng: random.Random,
    lows: list[tuple[datetime, datetime]],
) -> list[Emit]:
    out: list[Emit] = []
    moment = seconds(begin, rng.uniform(0, spec.heartbeat_s))
    while moment < end:
        out.append(Emit(moment, spec.key, MessageKind.HEARTBEAT, {}))
        moment = seconds(moment, spec.heartbeat_s + rng.uniform(-2, 2))
    boot = begin - timedelta(days=rng.uniform(1, 200))
    full = rng.uniform(70, 100)
    rssi = rng.uniform(-85, -45)
    # Status on a fixed period, plus at once when the battery crosses its low mark or is replaced.
    phase = rng.uniform(0, STATUS_S)
    moments = [
        seconds(begin, phase + k * STATUS_S + rng.uniform(-5, 5))
        for k in range(int((end - begin).total_seconds() // STATUS_S) + 1)
    ]
    moments += [m for window in lows for m in window]
    for moment in sorted(m for m in moments if begin <= m < end):
        if lows and any(low_end == moment for _, low_end in lows):
            boot = moment  # a battery change reboots the device
        battery = _battery(spec, moment, begin, full, lows) if spec.battery else None
        out.append(_status(spec, moment, battery, rssi + rng.gauss(0, 3), boot))
    return out


def health_readings(
    *, layout: Layout, begin: datetime, end: datetime, seed: int,
    low_battery: tuple[tuple[str, datetime, datetime], ...] = (),
) -> list[Emit]:  # fmt: skip
    """Heartbeats at each type's interval and status reports (battery, signal, uptime) for every device."""
    out: list[Emit] = []
    for spec in layout.devices:
        lows = sorted((s, e) for key, s, e in low_battery if key == spec.key)
        out += _device_health(spec, begin, end, sub_rng(seed, "health", spec.key), lows)
    return out
