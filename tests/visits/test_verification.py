"""Each verdict from hand-written sensor streams, and the kit's limits said rather than guessed."""

from __future__ import annotations

from tests.visits.streams import (
    BATH,
    DOOR,
    HALL,
    KITCHEN,
    LOUNGE,
    READER,
    at,
    door,
    kit,
    motion,
    normal_visit_stream,
    phone,
    tag,
    visit,
)
from visits.verification import Check, Task, verify


def test_tag_in_and_out_with_the_door_and_the_kitchen_is_verified() -> None:
    result = verify(visit(tag("08:01"), tag("08:31")), kit(), normal_visit_stream())
    assert result.verdict == "verified"
    assert result.corroborated
    assert result.reasons == ("Checked in and out by the home's tag reader; the home's sensors agree.",)
    evv = result.evidence["evv"]
    assert (
        evv["service"] == "morning call" and evv["client"] == "Edith Clark" and evv["carers"] == ["Sam Patel"]
    )
    assert evv["date"] == "2026-11-03" and evv["location"] == "12 Elm Road"
    assert evv["start"] == at("08:01").isoformat() and evv["end"] == at("08:31").isoformat()
    home = {f["code"]: f for f in result.evidence["home"]}
    assert home["arrival_door"]["status"] == "seen" and home["arrival_door"]["offset_s"] == 15
    assert home["room:kitchen"]["status"] == "seen"


def test_no_check_in_is_missed() -> None:
    result = verify(visit(None, None), kit(), motion(LOUNGE, "08:10"))
    assert result.verdict == "missed"
    assert result.reasons == ("Nobody checked in for the visit planned at 08:00.",)


def test_phone_check_in_with_no_door_and_no_movement_is_unverified() -> None:
    result = verify(visit(phone("08:00"), phone("08:30")), kit(), [])
    assert result.verdict == "unverified"
    assert result.reasons[0] == (
        "Nobody came in: the front door did not open within 5 minutes of the arrival at 08:00."
    )
    assert "nothing moved there during the visit" in result.reasons[1]


def test_phone_check_in_from_outside_while_the_resident_moves_about_is_unverified() -> None:
    """The resident is at home and moving, but nobody opened the door: the check-in was not at the home."""
    stream = motion(LOUNGE, "08:03", "08:10", "08:20") + motion(KITCHEN, "08:15")
    result = verify(visit(phone("08:00"), phone("08:30")), kit(), stream)
    assert result.verdict == "unverified"
    assert result.reasons[0].startswith("Nobody came in")


def test_the_home_empty_before_and_during_the_visit_is_unverified() -> None:
    stream = [*motion(HALL, "07:20"), *door("07:21"), *door("08:01"), *door("08:29")]
    result = verify(visit(tag("08:01"), tag("08:29")), kit(), stream)
    assert result.verdict == "unverified"
    assert "The home was empty: nothing moved there during the visit." in result.reasons
    home = {f["code"]: f for f in result.evidence["home"]}
    assert home["empty_before"]["status"] == "seen"


def test_late_is_verified_with_exceptions() -> None:
    stream = [*door("08:25"), *motion(KITCHEN, "08:30", "08:40"), *door("08:55")]
    result = verify(visit(tag("08:25"), tag("08:55")), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert result.reasons == ("Late: checked in at 08:25, 25 min after the planned 08:00.",)


def test_short_is_verified_with_exceptions() -> None:
    stream = [*door("08:01"), *motion(KITCHEN, "08:05"), *door("08:12")]
    result = verify(visit(tag("08:01"), tag("08:12")), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert result.reasons == ("Short: 11 min of the planned 30 min.",)


def test_a_task_not_done_and_its_room_not_visited_are_exceptions() -> None:
    tasks = (Task("breakfast", False, "she had eaten"), Task("personal care", True))
    stream = [*door("08:01"), *motion(LOUNGE, "08:05", "08:20"), *door("08:30")]
    result = verify(visit(tag("08:01"), tag("08:30"), tasks), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert "Task not done: breakfast (she had eaten)." in result.reasons
    assert "No movement in the bathroom during the visit, though personal care needs it." in result.reasons


def test_no_check_out_is_an_exception() -> None:
    stream = [*door("08:01"), *motion(KITCHEN, "08:05", "08:20")]
    result = verify(visit(tag("08:01"), None), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert "No check-out was recorded: the end of the visit is not known." in result.reasons


def test_a_carer_who_came_after_the_planned_end_and_forgot_to_check_out_is_seen_in() -> None:
    # Planned 08:00-08:30; the carer taps in at 08:40 and never taps out: the visit is looked at for its
    # planned length from the check-in, where the kitchen shows them, not for no time at all.
    stream = [*door("08:40"), *motion(KITCHEN, "08:45", "09:00")]
    result = verify(visit(tag("08:40"), None), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert "No check-out was recorded: the end of the visit is not known." in result.reasons
    assert not any(r.startswith("Nobody") for r in result.reasons)


def test_phone_outside_the_geofence_and_manual_entries_are_exceptions() -> None:
    away = phone("08:01", distance_m=640.0, flags=("outside_geofence",))
    manual = Check(at("08:31"), "manual", flags=("manual",))
    result = verify(visit(away, manual), kit(), normal_visit_stream())
    assert result.verdict == "verified_with_exceptions"
    assert "The check-in was made away from the home 640 m from the home." in result.reasons
    assert "The check-out was entered by hand by a coordinator." in result.reasons
    assert result.evidence["method"]["in"]["distance_m"] == 640
    assert "latitude" not in str(result.evidence)  # the log keeps a distance, never the fix


def test_without_a_door_sensor_it_says_so_instead_of_guessing() -> None:
    stream = [e for e in normal_visit_stream() if e.device_id != DOOR]
    result = verify(visit(phone("08:01"), phone("08:31")), kit(DOOR), stream)
    assert result.verdict == "verified"
    assert result.corroborated  # movement was still seen
    assert (
        "This home has no front door sensor: the arrival was not checked against the door." in result.reasons
    )


def test_without_any_sensor_the_verdict_rests_on_the_check_in_alone() -> None:
    bare = kit(DOOR, HALL, KITCHEN, BATH, LOUNGE, READER)
    result = verify(visit(tag("08:01"), tag("08:31")), bare, [])
    assert result.verdict == "verified"
    assert not result.corroborated
    assert (
        result.reasons[0]
        == "Checked in and out by the home's tag reader; the home's sensors could not check it."
    )
    assert "This home has no motion sensors: movement was not checked." in result.reasons


def test_kitchen_without_a_sensor_is_not_covered_not_a_fault() -> None:
    stream = [e for e in normal_visit_stream() if e.device_id != KITCHEN]
    result = verify(visit(tag("08:01"), tag("08:31")), kit(KITCHEN), stream)
    assert result.verdict == "verified"
    assert "No motion sensor in the kitchen: breakfast could not be checked there." in result.reasons


def test_the_departure_door_not_seen_is_an_exception() -> None:
    stream = [e for e in normal_visit_stream() if not (e.device_id == DOOR and e.at > at("08:20"))]
    result = verify(visit(tag("08:01"), tag("08:31")), kit(), stream)
    assert result.verdict == "verified_with_exceptions"
    assert result.reasons == ("The front door did not open within 5 minutes of the departure at 08:31.",)
