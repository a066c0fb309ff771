"""The ingest fast path accepts exactly what the record schema accepts, and refuses with the same messages.

The fast check is generated from the schema file; anything it is unsure of goes to the full validator
(fastjsonschema), which decides. So: the fast check must never accept a record the schema refuses, and it
must accept the ordinary valid records (else it is no fast path). Both are compared here with the reference
validator, ``jsonschema.Draft202012Validator``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import fastjsonschema
import jsonschema
import pytest
from aitrace_viewer.api._fastcheck import UnsupportedSchema, fast_check
from aitrace_viewer.api._parse import IngestError, parse_batch, quick_validator, validator
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aitrace_core._schema import record_schema

SCHEMA = record_schema()
REFERENCE = jsonschema.Draft202012Validator(SCHEMA)
FAST = fast_check(SCHEMA)
PATTERNED = {k for k, v in SCHEMA["properties"].items() if "pattern" in v}

hexchars = "0123456789abcdef"
ids32 = st.text(hexchars, min_size=32, max_size=32).filter(lambda s: s != "0" * 32)
ids16 = st.text(hexchars, min_size=16, max_size=16).filter(lambda s: s != "0" * 16)
stamps = st.builds(
    lambda d, frac, zone: f"2026-11-{d:02d}T12:34:56{frac}{zone}",
    st.integers(1, 28),
    st.sampled_from(["", ".1", ".123456", ".123456789"]),
    st.sampled_from(["Z", "+02:00", "-11:30"]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
short = st.text(max_size=30)


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(st.sampled_from(["span_start", "span_end", "hello", "tool said hi"]))
    record: dict[str, Any] = {
        "timestamp": draw(stamps),
        "level": draw(st.sampled_from(["debug", "info", "warning", "error", "critical"])),
        "event": event,
        "logger": draw(short),
        "service": draw(st.text(min_size=1, max_size=30)),
        "trace_id": draw(ids32),
        "span_id": draw(ids16),
    }
    optional = {
        "parent_span_id": ids16,
        "seq": st.integers(0, 2**64),
        "thread_id": short,
        "gen_ai.request.model": short,
        "gen_ai.usage.input_tokens": st.integers(0, 10**9),
        "gen_ai.usage.output_tokens": st.integers(0, 10**9),
        "gen_ai.response.finish_reasons": st.lists(short, max_size=3),
        "incomplete": st.booleans(),
        "input": json_values,
        "note": json_values,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    if event in ("span_start", "span_end") or draw(st.booleans()):
        record["span_name"] = draw(short)
        record["span_kind"] = draw(st.text(max_size=20))
    if event == "span_end" or draw(st.booleans()):
        record["duration_ms"] = draw(st.floats(0, 1e6) | st.integers(0, 10**6))
        record["status"] = draw(st.sampled_from(["ok", "error", "cancelled", "interrupted"]))
    return record


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    record = draw(valid_records())
    keys = [*sorted(SCHEMA["properties"]), "extra"]
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "set", "tweak", "replace"]))
        if action == "drop" and record:
            record.pop(draw(st.sampled_from(sorted(record))))
        elif action == "set":
            record[draw(st.sampled_from(keys))] = draw(json_values)
        elif action == "tweak":
            key = draw(st.sampled_from(keys))
            value = record.get(key, "")
            if isinstance(value, str):
                record[key] = draw(
                    st.sampled_from(
                        [
                            value + "x",
                            value[:-1],
                            value.upper(),
                            "0" * len(value),
                            value + "\n",
                            "",
                            "a" * 1001,
                        ]
                    )
                )
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                record[key] = draw(st.sampled_from([-value - 1, float(value), -0.5, str(value)]))
        else:
            return draw(json_values)
    return record


def _full_accepts(record: Any) -> bool:
    """What ingest decides: the fast check, else fastjsonschema."""
    if quick_validator()(record):
        return True
    try:
        validator()(record)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _newline_end(record: Any) -> bool:
    """fastjsonschema takes a pattern's final ``$`` as end of string; jsonschema lets a final newline in."""
    return isinstance(record, dict) and any(
        isinstance(record.get(k), str) and record[k].endswith("\n") for k in PATTERNED
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_records())
def test_valid_records_take_the_fast_path(record: dict[str, Any]) -> None:
    assert REFERENCE.is_valid(record)
    assert FAST(record)
    assert FAST(json.loads(json.dumps(record)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_records())
def test_fast_path_never_accepts_what_the_schema_refuses(record: Any) -> None:
    if FAST(record):
        assert REFERENCE.is_valid(record), record
    assume(not _newline_end(record))
    assert _full_accepts(record) == REFERENCE.is_valid(record), record


def test_the_fast_check_covers_the_whole_schema() -> None:
    """A constraint the generator does not know makes it refuse the schema (then: full validation only)."""
    fast_check(SCHEMA)  # the shipped schema: fully understood
    for path, keyword, value in [
        (("properties", "level"), "format", "email"),
        (("properties", "gen_ai.response.finish_reasons"), "maxItems", 3),
        (("properties", "input"), "type", "object"),
        (("properties", "input"), "properties", {"a": {"type": "string"}}),
        ((), "patternProperties", {"^x": {"type": "string"}}),
        ((), "dependentRequired", {"status": ["duration_ms"]}),
        ((), "additionalProperties", False),
        (("properties", "seq"), "exclusiveMinimum", 0),
        (("properties", "seq"), "multipleOf", 2),
        (("properties", "duration_ms"), "maximum", 10),
    ]:
        schema = copy.deepcopy(SCHEMA)
        target = schema
        for part in path:
            target = target[part]
        target[keyword] = value
        with pytest.raises(UnsupportedSchema):
            fast_check(schema)


def test_constraints_added_to_known_keywords_are_checked() -> None:
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["logger"]["maxLength"] = 3
    schema["properties"]["level"]["enum"] = ["info"]
    schema["required"] = [*schema["required"], "seq"]
    check = fast_check(schema)
    good = {
        "timestamp": "2026-11-24T12:00:00Z",
        "level": "info",
        "event": "x",
        "logger": "abc",
        "service": "s",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
        "seq": 1,
    }
    assert check(good)
    assert not check({**good, "logger": "abcd"})
    assert not check({**good, "level": "debug"})
    assert not check({k: v for k, v in good.items() if k != "seq"})


def test_refusals_keep_their_messages() -> None:
    good = {
        "timestamp": "2026-11-24T12:00:00Z",
        "level": "info",
        "event": "x",
        "logger": "l",
        "service": "s",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
    }
    body = (json.dumps(good) + "\n" + json.dumps({**good, "level": "loud"}) + "\n").encode()
    with pytest.raises(IngestError) as caught:
        parse_batch(body, 1_000_000)
    assert caught.value.index == 1
    assert caught.value.message == (
        "record 1: level: 'loud' must be one of ['debug', 'info', 'warning', 'error', 'critical']"
    )
    end = {**good, "event": "span_end", "span_name": "n", "span_kind": "k", "duration_ms": 1}
    with pytest.raises(IngestError) as caught:
        parse_batch(json.dumps([good, end]).encode(), 1_000_000)
    assert caught.value.index == 1
    assert "must contain ['status'] properties" in caught.value.message
    with pytest.raises(IngestError) as caught:
        parse_batch((json.dumps({**good, "trace_id": "ab\n"}) + "\n").encode(), 1_000_000)
    assert caught.value.message.startswith("record 0: trace_id: 'ab\\n' must match pattern")
