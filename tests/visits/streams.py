"""Hand-written homes and sensor streams for the verification tests: a kit, and readings by local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from visits.corroboration import SensorEvent
from visits.kit import Kit, KitDevice
from visits.verification import Check, Task, VisitFacts

DAY = datetime(2026, 11, 3, tzinfo=UTC)  # London is on UTC in November
DOOR, HALL, KITCHEN, BATH, LOUNGE, READER = (UUID(int=i) for i in range(1, 7))
FULL_KIT = [
    KitDevice(DOOR, "door_contact", "hallway"),
    KitDevice(HALL, "motion_sensor", "hallway"),
    KitDevice(KITCHEN, "motion_sensor", "kitchen"),
    KitDevice(BATH, "motion_sensor", "bathroom"),
    KitDevice(LOUNGE, "motion_sensor", "lounge"),
    KitDevice(READER, "nfc_reader", "hallway"),
]


def at(hhmm: str, seconds: int = 0) -> datetime:
    """A time of the test day (UTC = London time in November)."""
    hour, minute = map(int, hhmm.split(":"))
    return DAY + timedelta(hours=hour, minutes=minute, seconds=seconds)


def kit(*without: UUID) -> Kit:
    """The full kit, less some devices."""
    return Kit.of(d for d in FULL_KIT if d.device_id not in without)


def door(hhmm: str, seconds: int = 0) -> list[SensorEvent]:
    """The front door opening, then closing 10 s later."""
    return [
        SensorEvent(at(hhmm, seconds), DOOR, "contact", 1.0),
        SensorEvent(at(hhmm, seconds + 10), DOOR, "contact", 0.0),
    ]


def motion(device: UUID, *times: str) -> list[SensorEvent]:
    """Motion detected at each local time."""
    return [SensorEvent(at(t), device, "motion", 1.0) for t in times]


def visit(
    check_in: Check | None,
    check_out: Check | None,
    tasks: tuple[Task, ...] = (Task("breakfast", True), Task("medication", True)),
) -> VisitFacts:
    """A 30-minute breakfast visit planned for 08:00."""
    return VisitFacts(
        visit_id=uuid4(),
        home_id=UUID(int=99),
        service="morning call",
        client="Edith Clark",
        carers=("Sam Patel",),
        tz="Europe/London",
        planned_start=at("08:00"),
        planned_end=at("08:30"),
        tasks=tasks,
        check_in=check_in,
        check_out=check_out,
        location="12 Elm Road",
    )


def tag(hhmm: str, seconds: int = 0) -> Check:
    """A tap on the home's reader."""
    return Check(at(hhmm, seconds), "tag")


def phone(hhmm: str, distance_m: float = 20.0, flags: tuple[str, ...] = ()) -> Check:
    """A phone check with a fix `distance_m` from the home."""
    return Check(at(hhmm), "phone", distance_m=distance_m, accuracy_m=15.0, flags=flags)


def normal_visit_stream() -> list[SensorEvent]:
    """A carer comes in at 08:01, makes breakfast, leaves at 08:31."""
    return [
        *door("08:01", 15),
        *motion(HALL, "08:02"),
        *motion(KITCHEN, "08:05", "08:12", "08:20"),
        *motion(LOUNGE, "08:25"),
        *motion(HALL, "08:30"),
        *door("08:31", 20),
    ]
