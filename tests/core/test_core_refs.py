"""TraceRefs: a value is referred to only once a record holding it whole went out; resolve_refs undoes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aitrace_core
from aitrace_core import Limits, TraceRefs, open_span, resolve_refs
from aitrace_core.testing import CapturedRecords


def _msg(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"type": "text", "content": text}]}


def _write(refs: TraceRefs, name: str, value: dict[str, Any], emit: bool = True) -> dict[str, Any]:
    """What one record does: begin, shape (share), emit, commit with its span id."""
    refs.begin(name)
    shaped = refs.share(value)
    handle = open_span(name, "chain", input={"messages": [shaped]}) if emit else None
    refs.commit(handle.span_id if handle is not None else "f" * 16, name)
    return shaped


def _records(path: Path) -> list[dict[str, Any]]:
    return CapturedRecords.from_jsonl(path, resolve_refs=False).raw


def test_a_value_is_referred_to_once_its_record_went_out_whole(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="t", target=tmp_path / "a.jsonl")
    refs, m = TraceRefs(), _msg("hello " * 20)
    first = _write(refs, "a", m)
    second = _write(refs, "b", m)
    aitrace_core.flush(5.0)
    recs = _records(tmp_path / "a.jsonl")
    assert first == {**m, "$id": 1}
    assert second == {"$ref": 1, "$span": recs[0]["span_id"]}
    assert [r["input"]["messages"] for r in resolve_refs(recs)] == [[m], [m]]


def test_a_dropped_or_missing_record_is_never_referred_to(tmp_path: Path) -> None:
    """The writer's record dropped by a processor, never emitted (its callback failed), or committed by
    another run: the value is written in full again next time, and every reference resolves."""
    dropped = {"a"}
    aitrace_core.configure(
        service_name="t",
        target=tmp_path / "b.jsonl",
        processors=[lambda r: None if r.get("span_name") in dropped else r],
    )
    refs, m = TraceRefs(), _msg("hello " * 20)
    assert "$id" in _write(refs, "a", m)  # dropped by the processor
    _write(refs, "other", _msg("another message"))  # written whole: the thread's last record went out
    assert "$id" in _write(refs, "b", m, emit=False)  # no record after begin()
    refs.begin("c")
    assert "$id" in refs.share(m)
    open_span("c", "chain", input={"messages": [m]})
    refs.commit("e" * 16, "someone else")  # another run's commit
    assert "$id" in _write(refs, "d", m)
    assert "$ref" in _write(refs, "e", m)
    aitrace_core.flush(5.0)
    resolved = resolve_refs(_records(tmp_path / "b.jsonl"))
    assert [r["span_name"] for r in resolved] == ["other", "c", "d", "e"]
    assert all(r["input"]["messages"] == [m] for r in resolved[1:])


def test_a_record_reencoded_under_the_size_cap_does_not_count(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="t", target=tmp_path / "c.jsonl", max_record_bytes=50_000)
    refs, m = TraceRefs(), _msg("x" * 20_000)
    refs.begin("big")
    shaped = refs.share(m)
    open_span("big", "chain", input={"messages": [shaped], "blob": ["y" * 40_000] * 2})  # over the cap
    refs.commit("a" * 16, "big")
    assert "$id" in _write(refs, "next", m)  # written whole again, not referred to the cut one
    assert "$ref" in _write(refs, "after", m)


def test_values_a_cap_could_cut_are_never_shared() -> None:
    refs = TraceRefs()
    limits = Limits()
    long = _msg("z" * (limits.max_chars + 1))
    many = {"role": "user", "parts": [{"type": "text", "content": str(i)} for i in range(limits.max_items)]}
    for value in (long, many):
        refs.begin("a")
        assert refs.share(value) is value
        refs.commit(None, "a")
    assert len(refs) == 0


def test_compact_merges_consecutive_references_into_one_span_only() -> None:
    a, b = "a" * 16, "b" * 16
    items = [
        {"$ref": 1, "$span": a},
        {"$ref": 2, "$span": a},
        {"$ref": 3, "$span": a},
        {"$ref": 4, "$span": b},
    ]
    items += [{"$ref": 6, "$span": b}, "text", {"$ref": 7, "$span": b}, {"$ref": 8, "$span": b}]
    assert TraceRefs.compact(items) == [
        {"$ref": [1, 3], "$span": a},
        {"$ref": 4, "$span": b},
        {"$ref": 6, "$span": b},
        "text",
        {"$ref": [7, 8], "$span": b},
    ]
