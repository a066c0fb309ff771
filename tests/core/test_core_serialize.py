"""Serialization never raises: odd types, cycles, depth, size caps, hostile objects."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitrace_core import CUT_MARK, Limits, dumps, to_jsonable
from aitrace_core.testing import CapturedRecords


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


class Point(NamedTuple):
    x: int
    y: Any


@dataclasses.dataclass
class Item:
    sku: str
    extra: Any = None


class Message(pydantic.BaseModel):
    role: str
    content: Any = None


class Plain:
    def __init__(self, value: Any) -> None:
        self.value = value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=40),
    st.uuids(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=True),
    st.sampled_from(Color),
    st.text(max_size=20).map(PurePosixPath),
    st.text(max_size=20).map(lambda s: ValueError(s)),
)


def _wrap(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(st.text(max_size=10), children, max_size=5),
        st.dictionaries(st.integers(), children, max_size=3),
        st.frozensets(st.integers() | st.text(max_size=5), max_size=5),
        st.sets(st.integers(), max_size=5),
        st.builds(Point, st.integers(), children),
        st.builds(Item, st.text(max_size=10), children),
        st.builds(Message, role=st.sampled_from(["user", "ai"]), content=children),
        st.builds(Plain, children),
        children.map(lambda c: KeyError(c)),
    )


values = st.recursive(scalars, _wrap, max_leaves=30)


def _plain_json(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=15) | st.dictionaries(st.text(max_size=300), children, max_size=15)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_any_nesting_gives_valid_json_and_never_raises(value: Any) -> None:
    line = dumps({"event": "x", "value": value})
    parsed = json.loads(line)
    assert parsed["event"] == "x"
    # to_jsonable output is plain JSON data: encoding it strictly works too.
    json.dumps(to_jsonable(value), allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(values, st.integers(min_value=256, max_value=2000), st.integers(min_value=10, max_value=50))
def test_any_nesting_respects_tight_limits(value: Any, max_chars: int, max_items: int) -> None:
    limits = Limits(max_chars=max_chars, max_items=max_items, max_depth=4, max_record_bytes=4096)
    line = dumps({"event": "x", "value": value}, limits)
    assert len(line) <= 4096 or b"aitrace.cut" in line
    json.loads(line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_dumps_writes_what_the_walk_gives(value: Any) -> None:
    """The fast path for plain records and the full walk never disagree (NamedTuples, keys, caps...)."""
    record = {"event": "x", "value": value}
    assert json.loads(dumps(record)) == json.loads(json.dumps(to_jsonable(record)))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _plain_json, max_leaves=40))
@settings(max_examples=200, deadline=None)
def test_dumps_applies_caps_to_plain_json_too(value: Any) -> None:
    limits = Limits(max_chars=256, max_items=10, max_depth=3)
    record = {"event": "x", "value": value}
    assert json.loads(dumps(record, limits)) == json.loads(json.dumps(to_jsonable(record, limits)))


def test_namedtuples_and_odd_keys_in_records_are_written_as_documented() -> None:
    rec = json.loads(dumps({"event": "x", "p": Point(1, 2), "k": {True: 1, None: 2, 3: 4}, "t": (1, 2)}))
    assert rec["p"] == {"x": 1, "y": 2}
    assert rec["k"] == {"True": 1, "None": 2, "3": 4}
    assert rec["t"] == [1, 2]


def test_known_conversions() -> None:
    when = dt.datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    out = to_jsonable(
        {
            "uuid": uid,
            "when": when,
            "day": dt.date(2026, 1, 2),
            "time": dt.time(3, 4, 5),
            "delta": dt.timedelta(seconds=1.5),
            "price": Decimal("19.90"),
            "color": Color.RED,
            "path": Path("/tmp/x"),
            "text_bytes": b"hello",
            "raw_bytes": b"\xff\x00",
            "set": {3, 1, 2},
            "tuple": (1, "a"),
            "point": Point(1, 2),
            "item": Item("A-1"),
            "message": Message(role="user", content="hi"),
            "error": ValueError("bad"),
            "plain": Plain(5),
            "nan": float("nan"),
            "cls": int,
        }
    )
    assert out == {
        "uuid": str(uid),
        "when": "2026-11-24T12:00:00.123456+00:00",
        "day": "2026-01-02",
        "time": "03:04:05",
        "delta": 1.5,
        "price": "19.90",
        "color": "red",
        "path": "/tmp/x",
        "text_bytes": "hello",
        "raw_bytes": "base64:/wA=",
        "set": [1, 2, 3],
        "tuple": [1, "a"],
        "point": {"x": 1, "y": 2},
        "item": {"sku": "A-1", "extra": None},
        "message": {"role": "user", "content": "hi"},
        "error": {"type": "ValueError", "message": "bad"},
        "plain": {"__type__": f"{__name__}.Plain", "value": 5},
        "nan": "nan",
        "cls": "<class builtins.int>",
    }


def test_cycles_are_marked() -> None:
    a: list[Any] = [1]
    a.append(a)
    d: dict[str, Any] = {"name": "d"}
    d["self"] = d
    p = Plain(None)
    p.value = p
    out = to_jsonable({"a": a, "d": d, "p": p})
    assert out["a"] == [1, "[aitrace cycle: list]"]
    assert out["d"] == {"name": "d", "self": "[aitrace cycle: dict]"}
    assert out["p"]["value"].startswith("[aitrace cycle:")
    shared = [1, 2]
    assert to_jsonable([shared, shared]) == [[1, 2], [1, 2]]  # a shared value is not a cycle


def test_ten_thousand_deep_nesting_is_cut_without_recursion_error() -> None:
    deep: Any = "bottom"
    for _ in range(10_000):
        deep = {"k": [deep]}
    assert sys.getrecursionlimit() < 20_000
    line = dumps({"event": "deep", "value": deep})
    assert f"{CUT_MARK} depth limit" in line.decode()
    # Even a depth limit deeper than the stack allows ends in a visible cut, not a lost value.
    line = dumps({"event": "deep", "value": deep}, Limits(max_depth=100_000))
    assert f"{CUT_MARK} depth limit" in line.decode()
    plain: list[Any] = []
    node = plain
    for _ in range(10_000):
        child: list[Any] = []
        node.append(child)
        node = child
    assert CUT_MARK in json.dumps(to_jsonable(plain))


def test_long_string_keeps_head_tail_and_size() -> None:
    text = "H" * 50_000 + "middle" + "T" * 50_000
    out = to_jsonable(text, Limits(max_chars=1000))
    assert len(out) < 1100
    assert out.startswith("H" * 700)
    assert out.endswith("T" * 200)
    assert f"{CUT_MARK} " in out
    assert "of 100006 chars]" in out


def test_long_list_and_mapping_keep_ends_and_say_how_many() -> None:
    limits = Limits(max_items=10)
    out = to_jsonable(list(range(100)), limits)
    assert out[:9] == list(range(9))
    assert out[-1] == 99
    assert out[9] == f"{CUT_MARK} 90 of 100 items]"
    mapping = to_jsonable({f"k{i}": i for i in range(50)}, limits)
    assert len(mapping) == 11
    assert mapping["…"] == f"{CUT_MARK} 40 of 50 keys]"


def test_big_record_is_reencoded_under_the_byte_cap() -> None:
    limits = Limits(max_record_bytes=20_000)
    line = dumps({"event": "big", "trace_id": "a" * 32, "blob": ["x" * 60_000] * 50}, limits)
    assert len(line) <= 20_000
    rec = json.loads(line)
    assert rec["event"] == "big"
    assert CUT_MARK in json.dumps(rec)


def test_hostile_objects_never_raise() -> None:
    class BadRepr:
        __slots__ = ()

        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

    class BadDump:
        def __init__(self) -> None:
            self.keep = "me"

        def model_dump(self, **kw: Any) -> Any:
            raise RuntimeError("dump exploded")

    class BadDict:
        @property
        def __dict__(self) -> Any:  # type: ignore[override]
            raise RuntimeError("no dict for you")

        def __repr__(self) -> str:
            raise RuntimeError("nor repr")

    class BadStrError(Exception):
        def __str__(self) -> str:
            raise RuntimeError("str exploded")

    class BadIter(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            raise RuntimeError("iter exploded")

    out = to_jsonable(
        {"repr": BadRepr(), "dump": BadDump(), "dict": BadDict(), "err": BadStrError(), "iter": BadIter([1])}
    )
    assert out["repr"].startswith("<unserializable")
    assert out["dump"] == {"keep": "me"}
    assert out["dict"].startswith("<unserializable")
    assert str(out["err"]).startswith("<unserializable")
    json.dumps(out)
    json.loads(dumps({"event": "x", "bad": BadRepr(), "k": BadDict()}))


def test_hostile_values_in_records_still_validate(records: CapturedRecords) -> None:
    from aitrace_core import get_logger, span

    class BadRepr:
        __slots__ = ()

        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

    cyclic: dict[str, Any] = {}
    cyclic["me"] = cyclic
    with span("s", obj=BadRepr(), cyc=cyclic):
        get_logger("x").info("v", obj=BadRepr(), huge="y" * 200_000, when=dt.datetime(2026, 1, 1))
    assert len(records) == 3
    assert CUT_MARK in records.events("v")[0]["huge"]


# -- the orjson fast path (used when orjson is installed) and the stdlib one agree -----------------------


@contextlib.contextmanager
def _stdlib_encoder() -> Any:
    from aitrace_core import _encode

    saved = _encode._orjson
    _encode._orjson = None
    try:
        yield
    finally:
        _encode._orjson = saved


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_dumps_without_orjson_writes_what_the_walk_gives(value: Any) -> None:
    record = {"event": "x", "value": value}
    with _stdlib_encoder():
        line = dumps(record)
    assert json.loads(line) == json.loads(json.dumps(to_jsonable(record)))


class _Str(str):
    pass


class _Level(enum.IntEnum):
    LOW = 1


def test_orjson_and_stdlib_paths_write_the_same_data_for_odd_values() -> None:
    import collections

    odd = {
        "nan": float("nan"),
        "inf": [float("-inf"), None],
        "nan_in_enum_free_record": {"a": None, "b": 1.5},
        "tuple": (1, "a"),
        "point": Point(1, (2, 3)),
        "ordered": collections.OrderedDict(a=1),
        "str_sub": _Str("s"),
        "str_sub_key": {_Str("k"): 1},
        "int_enum": _Level.LOW,
        "enum": Color.RED,
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "big": 1 << 80,
        "surrogate": "a\ud800b",
        "keys": {True: 1, None: 2, 3: 4},
        "when": dt.datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=dt.timezone.utc),
        "item": Item("A-1"),
        "float": 1.7e-05,
    }
    for key, value in odd.items():
        record = {"event": "x", key: value}
        fast = dumps(record)
        with _stdlib_encoder():
            slow = dumps(record)
        assert json.loads(fast) == json.loads(slow), key
        assert json.loads(fast) == json.loads(json.dumps(to_jsonable(record))), key
    assert json.loads(dumps({"event": "x", "nan": float("nan")}))["nan"] == "nan"



_CHARS = ["a", "é", '"', "\\", "\n", '\\"', '"\\']


def _text_near(lengths: list[int]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=8),
        st.tuples(st.sampled_from(lengths), st.integers(-2, 2), st.sampled_from(_CHARS)).map(
            lambda t: (t[2] * (t[0] + t[1]))[: max(0, t[0] + t[1])]
        ),
    )


@given(st.data(), st.integers(min_value=16, max_value=1_400))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_long_strings_and_keys_near_the_caps_take_the_walk(data: Any, max_chars: int) -> None:
    """Strings and keys within two characters of ``max_chars`` and of the 1,000-character key cap, with
    quotes, escapes and multi-byte characters: the fast path gives exactly what the walk gives."""
    text = _text_near([max_chars, 1_000])
    value = data.draw(
        st.recursive(
            st.none() | st.integers() | text,
            lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
            max_leaves=8,
        )
    )
    limits = Limits(max_chars=max_chars)
    record = {"event": "x", "value": value}
    assert json.loads(dumps(record, limits)) == json.loads(json.dumps(to_jsonable(record, limits)))


@pytest.mark.parametrize("length", [999, 1_000, 1_001, 1_002])
@pytest.mark.parametrize("char", ["a", "é", '"', "\\"])
def test_keys_around_the_key_cap_in_big_records(length: int, char: str) -> None:
    """A key just under or over 1,000 characters in a record far bigger than that: cut exactly as the walk
    cuts it, with long string values around it."""
    record = {"event": "x", "pad": "p" * 5_000, "value": {char * length: "v" * 3_000}}
    for limits in (Limits(), Limits(max_chars=1_200)):
        assert json.loads(dumps(record, limits)) == json.loads(json.dumps(to_jsonable(record, limits)))
