"""The worker's cheap contract checks decide as the contract's models do: same verdicts, same reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.contract import (
    MESSAGE_MODELS,
    ContractError,
    MessageKind,
    example_payloads,
    parse_payload,
    reading_value,
)
from ingest.checks import FAST_FIELDS, _fast_check, check_payload

KINDS = list(MessageKind)
EXAMPLES = example_payloads()


def storable(value: object) -> bool:
    """Whether PostgreSQL can store every string in a value (jsonb or text): no NUL, valid UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


def same_verdict(kind: MessageKind, raw: bytes) -> None:
    """check_payload accepts what parse_payload accepts, with the same values, and refuses the rest alike.

    What either keeps can be stored: an accepted payload as jsonb, a refusal's reason in dead_letters.
    """
    try:
        message = parse_payload(kind, raw)
    except ContractError as expected:
        with pytest.raises(ContractError) as info:
            check_payload(kind, raw)
        got = info.value
        assert (got.reason, str(got), got.field) == (expected.reason, str(expected), expected.field)
        assert storable(str(got)) and storable(got.field), str(got)
        return
    checked = check_payload(kind, raw)
    assert checked.ts == message.ts and checked.ts.utcoffset() == timedelta(0)
    assert type(checked.seq) is int and checked.seq == message.seq
    value = reading_value(message)
    assert checked.value == value and type(checked.value) is type(value)
    assert checked.data == orjson.loads(raw)
    assert storable(checked.data)


def with_changes(kind: MessageKind, /, **changes: Any) -> bytes:
    return json.dumps({**EXAMPLES[kind], **changes}).encode()


@pytest.mark.parametrize("kind", KINDS)
def test_fields_match_the_models(kind: MessageKind) -> None:
    fields, _ = FAST_FIELDS[kind]
    model_fields = MESSAGE_MODELS[kind].model_fields
    assert set(fields) == set(model_fields)
    assert {name for name, (_, required) in fields.items() if required} == {
        name for name, info in model_fields.items() if info.is_required()
    }


@pytest.mark.parametrize("kind", KINDS)
def test_well_formed_messages_take_the_cheap_path(kind: MessageKind) -> None:
    for raw in (orjson.dumps(EXAMPLES[kind]), with_changes(kind, kind=kind.value, v=1)):
        assert _fast_check(kind, raw) is not None
    now = datetime.now(UTC).isoformat()
    assert _fast_check(kind, with_changes(kind, ts=now)) is not None  # how the simulators write it
    assert _fast_check(kind, with_changes(kind, seq=-1)) is None


@pytest.mark.parametrize("kind", KINDS)
def test_examples_and_every_field_dropped_or_nulled(kind: MessageKind) -> None:
    same_verdict(kind, orjson.dumps(EXAMPLES[kind]))
    same_verdict(kind, with_changes(kind, kind=kind.value, v=1))
    for name in MESSAGE_MODELS[kind].model_fields:
        data = {k: v for k, v in EXAMPLES[kind].items() if k != name}
        same_verdict(kind, orjson.dumps(data))
        same_verdict(kind, with_changes(kind, **{name: None}))


# fmt: off
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 59, 100, 101, -130, -131, 85, 86, -40, -41, 0.5, 1.0, 1.5, -0.0,
    2**63 - 1, 2**63, 2**64, 1e300, "", "x", "online", "offline", "x" * 64, "x" * 65, "ket\ntle", "\x7f",
    "tv \u2013 \u00dcn\u00efcode", "a\u00a0b", "\u2028", [], {}, [1], "1", "true", "a\x00b", "\x00", "\x85",
    "\x9f", "\ufffe", {"\x00": 1}, {"a": "\x00"}, ["\x00"],
]
TIMESTAMPS: list[Any] = [
    "2025-03-14T07:42:05Z", "2025-03-14T07:42:05+01:00", "2025-03-14T07:42:05.5Z",
    "2025-03-14T07:42:05.123456Z", "2025-03-14T07:42:05.1234567Z", "2025-03-14T07:42:05.123456789-05:30",
    "2025-03-14t07:42:05z", "2025-03-14 07:42:05Z", "2025-03-14T07:42:05+01:60", "2025-03-14T07:42:05+24:00",
    "2025-03-14T24:00:00Z", "2025-03-14T07:42:60Z", "2025-02-30T00:00:00Z", "2025-03-14T07:42:05",
    "2025-03-14T07:42:05+0100", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "2000-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "20250314T074205Z", "2025-03-14T07:42:05.Z",
    "\uff12\uff10\uff12\uff15-03-14T07:42:05Z", "2025-03-14T07:42:05-00:00", "2025-03-14T07:42:05+23:59",
    " 2025-03-14T07:42:05Z", 1710402125, None,
]
RAW = [
    b"", b" ", b"{", b"[]", b"null", b"\xff", b'{"ts": "\xc3\x28"}', b'{"a": "\xed\xa0\x80"}',
    b"\xef\xbb\xbf{}", b'{"ts": "2025-03-14T07:42:05Z", "seq": 1, "a": "\\ud800"}', b'{"a": Infinity}',
    b'{"seq": 1,}', b'{"ts": "2025-03-14T07:42:05Z", "seq": 1, "a\\u0000b": 1}',
    b'{"\\u0000": {"\\u0000": 0}}',
    b'{"ts": "2025-03-14T07:42:05Z", "seq": 1, "\x00": 1}',
]
# fmt: on


@pytest.mark.parametrize("kind", KINDS)
def test_each_field_with_awkward_values(kind: MessageKind) -> None:
    for name in [*MESSAGE_MODELS[kind].model_fields, "extra", "a\x00b", "\x00", "\x85"]:
        for value in VALUES:
            same_verdict(kind, with_changes(kind, **{name: value}))


@pytest.mark.parametrize("ts", TIMESTAMPS)
def test_timestamps(ts: object) -> None:
    for kind in (MessageKind.MOTION, MessageKind.STATUS):
        same_verdict(kind, with_changes(kind, ts=ts))


@pytest.mark.parametrize("raw", RAW)
def test_bytes_that_are_not_a_json_object(raw: bytes) -> None:
    same_verdict(MessageKind.HEARTBEAT, raw)


def test_size_limit() -> None:
    body = orjson.dumps(EXAMPLES[MessageKind.TAG])
    for size in (65536, 65537):
        same_verdict(MessageKind.TAG, body[:-1] + b" " * (size - len(body)) + b"}")


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(9998, 12, 31)),
    offset_minutes=st.integers(min_value=-1439, max_value=1439),
    kind=st.sampled_from(KINDS),
)
def test_any_isoformat_timestamp(moment: datetime, offset_minutes: int, kind: MessageKind) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    same_verdict(kind, with_changes(kind, ts=aware.isoformat()))
    same_verdict(kind, with_changes(kind, ts=aware.astimezone(UTC).isoformat().replace("+00:00", "Z")))


# Text drawn from every category but surrogates (which JSON text cannot hold unpaired), with the
# characters that PostgreSQL or the contract refuse drawn often.
TEXT = st.text(st.sampled_from("\x00\x1f\x7f\x85\x9f\u2028\ufffeaZ"), max_size=4) | st.text(max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=600)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_examples(kind: MessageKind, data: st.DataObject) -> None:
    names = [*MESSAGE_MODELS[kind].model_fields, "extra"]
    changes = data.draw(st.dictionaries(st.sampled_from(names) | TEXT, JSON_VALUES, max_size=3))
    dropped = data.draw(st.sets(st.sampled_from(names), max_size=2))
    body = {k: v for k, v in {**EXAMPLES[kind], **changes}.items() if k not in dropped}
    same_verdict(kind, json.dumps(body).encode())


@settings(max_examples=300)
@given(kind=st.sampled_from(KINDS), raw=st.binary(max_size=200))
def test_arbitrary_bytes(kind: MessageKind, raw: bytes) -> None:
    same_verdict(kind, raw)
