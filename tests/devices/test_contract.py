"""Unit tests of the device MQTT contract v1 (devices/contract.py): pure logic, no broker, no database."""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.contract import (
    CONTRACT_ERROR_REASONS,
    MAX_PAYLOAD_BYTES,
    PRIORITY_KINDS,
    ContractError,
    MessageBase,
    MessageKind,
    TopicAddress,
    command_topic,
    example_payloads,
    message_json_schemas,
    message_topic,
    parse_payload,
    parse_topic,
    reading_value,
)

KINDS = list(MessageKind)
EXAMPLES = example_payloads()
SCHEMAS = message_json_schemas()
HOME = UUID("6f1c2b7e-3d4a-4e5f-8a9b-0c1d2e3f4a5b")
DEVICE = UUID("0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d")
DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md"
DROP = object()


def payload(kind: str, /, **changes: Any) -> bytes:
    """The example of a kind with some fields replaced (or dropped with DROP), as JSON bytes."""
    data = dict(EXAMPLES[kind])
    for name, value in changes.items():
        if value is DROP:
            data.pop(name, None)
        else:
            data[name] = value
    return orjson.dumps(data)


def rejects(kind: str, raw: bytes, reason: str, field: str | None = None) -> ContractError:
    """Assert that parse_payload refuses raw with the given reason, naming the field if there is one."""
    with pytest.raises(ContractError) as info:
        parse_payload(kind, raw)
    assert info.value.reason == reason, str(info.value)
    if field is not None:
        assert info.value.field == field
        assert f"'{field}'" in str(info.value)
    return info.value


# --- every kind: examples, kind echo, required and unknown fields -------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_example_is_valid_and_round_trips(kind: MessageKind) -> None:
    message = parse_payload(kind, orjson.dumps(EXAMPLES[kind]))
    assert isinstance(message, MessageBase)
    assert message.kind == kind
    assert message.model_dump(mode="json", exclude_unset=True) == EXAMPLES[kind]
    assert parse_payload(kind.value, message.model_dump_json().encode()) == message
    assert parse_payload(kind, payload(kind, kind=kind.value)) == message  # the payload may repeat its kind


@pytest.mark.parametrize("kind", KINDS)
def test_kind_mismatch(kind: MessageKind) -> None:
    other = KINDS[(KINDS.index(kind) + 1) % len(KINDS)]
    error = rejects(kind, payload(kind, kind=other.value), "kind_mismatch", "kind")
    assert other.value in str(error)
    rejects(kind, payload(other.value, kind=other.value), "kind_mismatch", "kind")
    rejects(kind, payload(kind, kind=1), "kind_mismatch", "kind")


@pytest.mark.parametrize(
    ("kind", "field"), [(kind, field) for kind in KINDS for field in SCHEMAS[kind]["required"]]
)
def test_missing_required_field(kind: MessageKind, field: str) -> None:
    rejects(kind, payload(kind, **{field: DROP}), "missing_field", field)


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_field_and_bad_seq(kind: MessageKind) -> None:
    rejects(kind, payload(kind, colour="red"), "unknown_field", "colour")
    rejects(kind, payload(kind, Seq=1), "unknown_field", "Seq")
    rejects(kind, payload(kind, seq="5"), "wrong_type", "seq")
    rejects(kind, payload(kind, seq=5.0), "wrong_type", "seq")
    rejects(kind, payload(kind, seq=-1), "out_of_range", "seq")


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "tab\there", "\x85", "k" * 5000])
def test_an_unknown_key_is_named_in_a_form_that_can_be_stored(key: str) -> None:
    # A NUL in a key once reached the dead-letter table raw, which PostgreSQL refused (storage_error).
    error = rejects("motion", payload("motion", **{key: 1}), "unknown_field")
    for text in (str(error), error.field or ""):
        assert text.isprintable() and len(text) < 200, text
    if len(key) <= 64:
        assert error.field == (key if key.isprintable() else key.encode("unicode_escape").decode())


# --- field values --------------------------------------------------------------------------------

# fmt: off
WRONG_TYPES = [  # (kind, field, value, what the message says was expected)
    ("temperature", "celsius", "12", "a number"), ("temperature", "celsius", True, "a number"),
    ("temperature", "celsius", None, "a number"), ("humidity", "percent", [48], "a number"),
    ("power", "watts", {"w": 1}, "a number"), ("power", "appliance", 5, "a string"),
    ("motion", "detected", 1, "a boolean"), ("contact", "open", "true", "a boolean"),
    ("occupancy", "occupied", None, "a boolean"), ("water_leak", "leak", 0, "a boolean"),
    ("smoke", "alarm", "yes", "a boolean"), ("alarm", "button", True, "a string"),
    ("fall", "confidence", "0.9", "a number"), ("alarm_cancel", "cancels_seq", "59", "an integer"),
    ("alarm_cancel", "cancels_seq", 59.0, "an integer"), ("tag", "tag_id", 1234, "a string"),
    ("status", "battery", 87.0, "an integer"), ("status", "rssi_dbm", "-67", "an integer"),
    ("status", "firmware", 2, "a string"), ("status", "uptime_s", True, "an integer"),
    ("presence", "state", True, "a string"), ("heartbeat", "seq", "5", "an integer"),
]
JSON_NAMES = {str: "string", bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
# fmt: on


@pytest.mark.parametrize(("kind", "field", "value", "expected"), WRONG_TYPES)
def test_wrong_type(kind: str, field: str, value: Any, expected: str) -> None:
    error = rejects(kind, payload(kind, **{field: value}), "wrong_type", field)
    got = JSON_NAMES.get(type(value), "null")
    assert f"field '{field}': expected {expected}, got {got}" in str(error)


# fmt: off
OUT_OF_RANGE: list[tuple[str, str, list[Any]]] = [
    ("temperature", "celsius", [-40.01, 85.5, 1e300]), ("humidity", "percent", [-0.1, 100.1]),
    ("power", "watts", [-0.5]), ("power", "appliance", ["", "x" * 65, "ket\ntle"]),
    ("alarm", "button", ["", "a\x00b"]), ("fall", "confidence", [-0.01, 1.01]),
    ("alarm_cancel", "cancels_seq", [-1, 2**63]),
    ("tag", "tag_id", ["", "x" * 65, "04A2\x00", "\x7f", "a\x85b", "\x9f"]),
    ("status", "battery", [-1, 101]), ("status", "rssi_dbm", [-131, 1]),
    ("status", "firmware", ["", "1" * 65]), ("status", "uptime_s", [-1, 2**63]),
    ("presence", "state", ["away", "ONLINE", ""]), ("heartbeat", "seq", [-1, 2**63, 2**64 - 1]),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "field", "value"), [(k, f, value) for k, f, values in OUT_OF_RANGE for value in values]
)
def test_out_of_range(kind: str, field: str, value: Any) -> None:
    rejects(kind, payload(kind, **{field: value}), "out_of_range", field)


# fmt: off
IN_RANGE: list[tuple[str, str, list[Any]]] = [
    ("temperature", "celsius", [-40, 85, 21, 0.0]), ("humidity", "percent", [0, 100]),
    ("power", "watts", [0, 0.0, 3000.5]), ("power", "appliance", [DROP, None, "x" * 64, "tv – Ünïcode"]),
    ("fall", "confidence", [0, 1, 0.5]), ("alarm_cancel", "cancels_seq", [DROP, 0, 2**63 - 1]),
    ("tag", "tag_id", ["a", "x" * 64]), ("status", "battery", [DROP, None, 0, 100]),
    ("status", "rssi_dbm", [DROP, -130, 0]), ("status", "uptime_s", [0, 2**63 - 1]),
    ("presence", "state", ["online", "offline"]), ("heartbeat", "seq", [0, 2**63 - 1]),
    ("heartbeat", "v", [1, DROP]),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "field", "value"), [(k, f, value) for k, f, values in IN_RANGE for value in values]
)
def test_in_range(kind: str, field: str, value: Any) -> None:
    message = parse_payload(kind, payload(kind, **{field: value}))
    if value is not DROP:
        assert getattr(message, field) == value


@pytest.mark.parametrize("value", [2, 0, "1", True, 1.0, None, [1]])
def test_bad_version(value: Any) -> None:
    rejects("temperature", payload("temperature", v=value), "bad_version", "v")


# --- timestamps ----------------------------------------------------------------------------------

# fmt: off
BAD_TIMESTAMPS = [
    "2025-03-14T07:42:05", "2025-03-14T07:42:05.5", "2025-03-14", "07:42:05Z",  # naive or partial
    "yesterday", "", " 2025-03-14T07:42:05Z", "20250314T074205Z", "２０２５-03-14T07:42:05Z",
    "1970-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2000-01-01T00:30:00+01:00",  # before 2000 in UTC
    "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-03-14T24:00:00Z", "2025-03-14T07:42:60Z",
    "2025-03-14T07:42:05+24:00", "2025-03-14T07:42:05+01:60", "2025-03-14T07:42:05+0100",
    "2025-03-14T07:42:05.1234567890Z", "9999-12-31T23:59:59-01:00",
    1710402125, 1710402125.5, None, True, ["2025-03-14T07:42:05Z"],
]
# fmt: on


@pytest.mark.parametrize("value", BAD_TIMESTAMPS)
def test_bad_timestamp(value: Any) -> None:
    rejects("motion", payload("motion", ts=value), "bad_timestamp", "ts")


T = datetime(2025, 3, 14, 7, 42, 5, tzinfo=UTC)
# fmt: off
GOOD_TIMESTAMPS = [
    ("2025-03-14T08:42:05+01:00", T), ("2025-03-14T02:12:05-05:30", T), ("2025-03-14t07:42:05z", T),
    ("2025-03-14 07:42:05-00:00", T), ("2025-03-14T07:42:05.123456789Z", T.replace(microsecond=123456)),
    ("2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),
    ("2099-01-01T00:00:00Z", datetime(2099, 1, 1, tzinfo=UTC)),  # future: stored, flagged by ingest
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), GOOD_TIMESTAMPS)
def test_good_timestamp_is_normalised_to_utc(text: str, expected: datetime) -> None:
    message = parse_payload("motion", payload("motion", ts=text))
    assert message.ts == expected
    assert message.ts.utcoffset() == timedelta(0)


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(9998, 12, 31)),
    offset_minutes=st.integers(min_value=-1439, max_value=1439),
)
def test_any_isoformat_timestamp_with_offset_parses(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert parse_payload("heartbeat", payload("heartbeat", ts=aware.isoformat())).ts == aware


# --- the payload as bytes --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pressure", "Temperature", "cmd", "", "temperature "])
def test_unknown_kind(kind: str) -> None:
    rejects(kind, payload("temperature"), "unknown_kind")


def test_payload_size_limit() -> None:
    body = payload("tag")
    padded = body[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_PAYLOAD_BYTES
    assert parse_payload("tag", padded).kind == "tag"
    error = rejects("tag", padded + b" ", "too_large")
    assert str(MAX_PAYLOAD_BYTES) in str(error)
    rejects("tag", payload("tag", tag_id="x" * MAX_PAYLOAD_BYTES), "too_large")


# fmt: off
BAD_BYTES = [
    (b"\xff", "not_utf8"), (b'{"ts": "\xc3\x28"}', "not_utf8"), (b'{"a": "\xed\xa0\x80"}', "not_utf8"),
    ("{}".encode("utf-16"), "not_utf8"), (b"", "invalid_json"), (b" ", "invalid_json"),
    (b"{", "invalid_json"), (b"{'seq': 1}", "invalid_json"), (b'{"seq": 1,}', "invalid_json"),
    (b"NaN", "invalid_json"), (b'{"a": Infinity}', "invalid_json"), (b"\xef\xbb\xbf{}", "invalid_json"),
    (b"[" * 5000, "invalid_json"),
    (b"[]", "not_object"), (b"[{}]", "not_object"), (b"1", "not_object"), (b'"x"', "not_object"),
    (b"null", "not_object"), (b"true", "not_object"),
]
# fmt: on


@pytest.mark.parametrize(("raw", "reason"), BAD_BYTES)
def test_payload_that_is_not_a_json_object(raw: bytes, reason: str) -> None:
    rejects("heartbeat", raw, reason)


def test_first_error_wins_and_others_are_counted() -> None:
    error = rejects("temperature", payload("humidity", kind="humidity"), "kind_mismatch", "kind")
    assert "more problems" in str(error)


def test_contract_error_pickles_and_is_a_value_error() -> None:
    error = rejects("motion", payload("motion", detected="no"), "wrong_type", "detected")
    restored = pickle.loads(pickle.dumps(error))
    assert isinstance(restored, ContractError)
    assert isinstance(restored, ValueError)
    assert (restored.reason, str(restored), restored.field) == (error.reason, str(error), error.field)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def only_contract_errors(kind: MessageKind, raw: bytes) -> None:
    """Parse raw; succeed, or fail with a ContractError that has a known reason and a message."""
    try:
        message = parse_payload(kind, raw)
    except ContractError as exc:
        assert exc.reason in CONTRACT_ERROR_REASONS
        assert str(exc)
    else:
        reading_value(message)


@settings(max_examples=300)
@given(kind=st.sampled_from(KINDS), raw=st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_contract_error(kind: MessageKind, raw: bytes) -> None:
    only_contract_errors(kind, raw)


@settings(max_examples=300)
@given(kind=st.sampled_from(KINDS), value=JSON_VALUES)
def test_arbitrary_json_only_raises_contract_error(kind: MessageKind, value: Any) -> None:
    # The standard library writes what orjson will not (huge integers, NaN): more hostile input.
    only_contract_errors(kind, json.dumps(value).encode())


@settings(max_examples=500)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_examples_only_raise_contract_error(kind: MessageKind, data: st.DataObject) -> None:
    names = [*SCHEMAS[kind]["properties"], "extra"]
    changes = data.draw(
        st.dictionaries(st.sampled_from(names) | st.text(max_size=5), JSON_VALUES, max_size=3)
    )
    only_contract_errors(kind, json.dumps({**EXAMPLES[kind], **changes}).encode())


# --- topics --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("root", ["telecare", "t1234/telecare", "a/b/c"])
def test_parse_topic(kind: MessageKind, root: str) -> None:
    topic = f"{root}/v1/{HOME}/{DEVICE}/{kind}"
    assert parse_topic(topic, root=root) == TopicAddress(home_id=HOME, device_id=DEVICE, kind=kind)
    assert message_topic(root, HOME, DEVICE, kind) == topic
    assert command_topic(root, HOME, DEVICE) == f"{root}/v1/{HOME}/{DEVICE}/cmd"


# fmt: off
BAD_TOPICS = [  # (root, topic); <h> and <d> stand for the home and device ids; all bad_topic
    ("telecare", "other/v1/<h>/<d>/motion"), ("telecare", "telecare2/v1/<h>/<d>/motion"),
    ("telecare", "/telecare/v1/<h>/<d>/motion"), ("telecare", "t1234/telecare/v1/<h>/<d>/motion"),
    ("t1234/telecare", "telecare/v1/<h>/<d>/motion"), ("telecare", "telecare"), ("telecare", "telecare/"),
    ("telecare", "telecare/v2/<h>/<d>/motion"), ("telecare", "telecare/V1/<h>/<d>/motion"),
    ("telecare", "telecare/<h>/<d>/motion"), ("telecare", "telecare/v1/home-1/<d>/motion"),
    ("telecare", f"telecare/v1/<h>/{str(DEVICE).upper()}/motion"),
    ("telecare", f"telecare/v1/{HOME.hex}/<d>/motion"),
    ("telecare", "telecare/v1/{<h>}/<d>/motion"), ("telecare", "telecare/v1/urn:uuid:<h>/<d>/motion"),
    ("telecare", "telecare/v1/<h>/motion"), ("telecare", "telecare/v1/<h>/<d>"),
    ("telecare", "telecare/v1/<h>/<d>/motion/extra"), ("telecare", "telecare/v1/<h>/<d>/motion/"),
    ("telecare", "telecare/v1/<h>//<d>/motion"), ("telecare", "telecare/v1/<h>/<d>/cmd"),
]
UNKNOWN_KIND_TOPICS = [("telecare", f"telecare/v1/<h>/<d>/{kind}") for kind in ["pressure", "Motion", ""]]
# fmt: on


@pytest.mark.parametrize(
    ("root", "topic", "reason"),
    [(*case, "bad_topic") for case in BAD_TOPICS] + [(*case, "unknown_kind") for case in UNKNOWN_KIND_TOPICS],
)
def test_bad_topic(root: str, topic: str, reason: str) -> None:
    with pytest.raises(ContractError) as info:
        parse_topic(topic.replace("<h>", str(HOME)).replace("<d>", str(DEVICE)), root=root)
    assert info.value.reason == reason


@pytest.mark.parametrize("root", ["", "/telecare", "telecare/", "a//b", "tele+care", "#"])
def test_invalid_root_is_a_programming_error(root: str) -> None:
    with pytest.raises(ValueError, match="topic root"):
        parse_topic(f"{root}/v1/{HOME}/{DEVICE}/motion", root=root)


# --- reading values, schemas, priority, documentation ------------------------------------------

# fmt: off
READINGS = [
    ("temperature", {}, 19.5), ("temperature", {"celsius": 20}, 20.0), ("humidity", {}, 48.0),
    ("power", {}, 2850.0), ("motion", {}, 1.0), ("motion", {"detected": False}, 0.0),
    ("contact", {}, 1.0), ("contact", {"open": False}, 0.0), ("occupancy", {}, 0.0),
    ("occupancy", {"occupied": True}, 1.0), ("water_leak", {}, 1.0), ("water_leak", {"leak": False}, 0.0),
    ("smoke", {}, 1.0), ("smoke", {"alarm": False}, 0.0), ("flush", {}, 1.0), ("alarm", {}, 1.0),
    ("fall", {}, 0.92), ("alarm_cancel", {}, 1.0), ("tag", {}, None), ("status", {}, 87.0),
    ("status", {"battery": DROP}, None), ("heartbeat", {}, None), ("presence", {}, 1.0),
    ("presence", {"state": "offline"}, 0.0),
]
# fmt: on


@pytest.mark.parametrize(("kind", "changes", "expected"), READINGS)
def test_reading_value(kind: str, changes: dict[str, Any], expected: float | None) -> None:
    value = reading_value(parse_payload(kind, payload(kind, **changes)))
    assert value == expected
    assert value is None or type(value) is float


def test_every_kind_has_a_reading_schema_and_example_and_priorities() -> None:
    assert {kind for kind, _, _ in READINGS} == set(MessageKind)
    assert set(SCHEMAS) == set(EXAMPLES) == {kind.value for kind in MessageKind}
    example_payloads()["status"]["battery"] = -5
    assert example_payloads()["status"]["battery"] == 87  # a fresh copy every time
    assert {"alarm", "fall", "smoke", "water_leak"} == PRIORITY_KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_json_schema(kind: MessageKind) -> None:
    schema = SCHEMAS[kind]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert {"ts", "seq"} <= set(schema["required"]) <= set(EXAMPLES[kind])
    assert set(EXAMPLES[kind]) <= set(schema["properties"])
    assert schema["properties"]["kind"]["const"] == kind.value
    orjson.dumps(schema)


def test_doc_shows_every_example_verbatim() -> None:
    blocks = [
        orjson.loads(block)
        for block in re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    ]
    for kind, example in EXAMPLES.items():
        assert example in blocks, f"example for {kind} missing from {DOC.name}"


@pytest.mark.parametrize("kind", KINDS)
def test_doc_has_a_section_and_field_table_for_every_kind(kind: MessageKind) -> None:
    section = re.search(
        rf"^### `{kind}`\n(.*?)(?=^#)", DOC.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE
    )
    assert section is not None, f"no section for {kind}"
    for field in SCHEMAS[kind]["properties"]:
        if field not in {"ts", "seq", "v", "kind"}:
            assert f"| `{field}` |" in section.group(1), f"{kind}.{field} missing from the field table"
