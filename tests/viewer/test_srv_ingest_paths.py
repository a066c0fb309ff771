"""The ingest shortcuts give the same results as the plain code they stand in for."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aitrace_viewer.store import Store
from aitrace_viewer.store._derive import MAX_SEARCH_CHARS, _parse_ts, parse_ts, search_text
from aitrace_viewer.store._engine import sqlite_file
from hypothesis import given, settings
from hypothesis import strategies as st

from aitrace_core import record_schema

ROOT = Path(__file__).resolve().parents[2]


def _not_searched() -> set[str]:
    """The fields search does not look at, as the docs state them: the fields every record has (the table in
    docs/schema.md) except ``event``, and what docs/api.md's search entry adds in its "not searched" list."""
    schema = (ROOT / "docs" / "schema.md").read_text("utf-8")
    table = schema.split("## Fields every record has", 1)[1].split("\n## ", 1)[0]
    every_record = set(re.findall(r"^\| `([^`]+)` \|", table, re.M))
    assert {"timestamp", "event", "trace_id", "span_id", "seq"} <= every_record, every_record
    api = " ".join((ROOT / "docs" / "api.md").read_text("utf-8").split())
    listed = re.search(r"\(not searched: ([^;]*)\);", api)
    assert listed, "docs/api.md no longer says which fields search leaves out"
    return (every_record - {"event"}) | set(re.findall(r"`([^`]+)`", listed.group(1)))


_STANDARD = _not_searched()


def _reference_collect(value: Any, out: list[str], budget: list[int], depth: int = 0) -> None:
    if budget[0] <= 0 or depth > 64:
        return
    if isinstance(value, str):
        out.append(value)
        budget[0] -= len(value)
    elif isinstance(value, dict):
        for item in value.values():
            _reference_collect(item, out, budget, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _reference_collect(item, out, budget, depth + 1)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(str(value))


def _reference_search_text(record: dict[str, Any]) -> str:
    out: list[str] = []
    budget = [MAX_SEARCH_CHARS]
    for key, value in record.items():
        if key not in _STANDARD:
            _reference_collect(value, out, budget)
    return " ".join(out)[:MAX_SEARCH_CHARS]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["event", "input", "output", "note", "seq", "span_id", "x", "y", "duration_ms"]),
        json_values | st.builds(lambda c, n: c * n, st.characters(), st.integers(30_000, 60_000)),
        max_size=6,
    )
)
def test_search_text_is_the_plain_walk(record: dict[str, Any]) -> None:
    assert search_text(record) == _reference_search_text(record)


stamps = st.builds(
    lambda y, mo, d, h, mi, s, frac, zone: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{zone}",
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from(["", ".1", ".123456", ".000000", ".999999", ".1234567", ".12345٣"]),
    st.sampled_from(["Z", "+02:00", "-11:30", ""]),
)


def _outcome(fn: Any, text: str) -> Any:
    try:
        return fn(text)
    except ValueError:
        return "ValueError"


@settings(max_examples=1000, deadline=None)
@given(stamps)
def test_parse_ts_shortcut_agrees_with_fromisoformat(text: str) -> None:
    assert _outcome(parse_ts, text) == _outcome(_parse_ts, text)


def test_parse_ts_of_the_shipper_form() -> None:
    at = datetime(2026, 11, 24, 12, 0, 1, 123456, tzinfo=timezone.utc)
    assert parse_ts("2026-11-24T12:00:01.123456Z") == int(at.timestamp()) * 1_000_000 + 123456


@pytest.mark.parametrize(
    ("text", "offset_minutes", "micro"),
    [
        ("2026-11-24T12:00:01Z", 0, 0),
        ("2026-11-24T12:00:01.1Z", 0, 100_000),
        ("2026-11-24T12:00:01.12345Z", 0, 123_450),
        ("2026-11-24T12:00:01.123456789Z", 0, 123_456),
        ("2026-11-24T12:00:01+02:00", 120, 0),
        ("2026-11-24T12:00:01.5-11:30", -690, 500_000),
        ("2026-11-24T12:00:01.123456789+02:00", 120, 123_456),
    ],
)
def test_parse_ts_reads_every_timestamp_the_schema_allows(
    text: str, offset_minutes: int, micro: int
) -> None:
    """On every supported Python: before 3.11 ``datetime.fromisoformat`` takes no ``Z`` and no 1–9 digits."""
    at = datetime(2026, 11, 24, 12, 0, 1, tzinfo=timezone.utc)
    expected = (int(at.timestamp()) - offset_minutes * 60) * 1_000_000 + micro
    assert re.fullmatch(record_schema()["properties"]["timestamp"]["pattern"], text)
    assert parse_ts(text) == expected


def _batch(n: int) -> tuple[list[dict[str, Any]], list[str]]:
    """1,000 records of ~3 kB of text each, all in trace ``n``."""
    from conftest import rec

    records = [
        rec(f"line {i} " + "lorem " * 500, f"{i + 1:016x}", f"00.{i:06d}", trace=f"{n + 1:032x}", seq=i)
        for i in range(1000)
    ]
    return records, [json.dumps(r) for r in records]


def _wal_copied_into_the_database(shm: Path) -> bool:
    """Read from the WAL index (the ``-shm`` file, https://sqlite.org/walformat.html) without a connection, so
    without checkpointing: every frame in the WAL (``mxFrame``, header offset 16) has been copied into the
    database file (``nBackfill``, offset 96)."""
    header = shm.read_bytes()[:100]
    if len(header) < 100:
        return False
    frames = int.from_bytes(header[16:20], sys.byteorder)
    copied = int.from_bytes(header[96:100], sys.byteorder)
    return frames > 0 and copied == frames


def test_sqlite_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """While the store is open, committed pages move from the WAL into the database file although no commit
    does it (the writer has SQLite's automatic checkpoint off); the WAL file is reused instead of growing
    with every batch; close() ends the thread that does it. Watched from outside: a checkpoint of our own
    (or closing the last connection) would do the work the store's thread is meant to do."""
    from conftest import wait_for

    db, wal, shm = tmp_path / "x.db", tmp_path / "x.db-wal", tmp_path / "x.db-shm"
    threads_before = set(threading.enumerate())
    store = Store(f"sqlite:///{db}")
    try:
        with store.writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
        wal_sizes = []
        for n in range(6):
            records, raws = _batch(n)
            before = db.stat().st_size
            assert store.ingest(records, raws, f"b{n}").ingested == 1000
            wait_for(lambda: _wal_copied_into_the_database(shm), 20, f"batch {n} checkpointed")
            assert db.stat().st_size > before
            wal_sizes.append(wal.stat().st_size)
        assert store.ingest(records, raws, "b5").duplicate
        # each commit after a complete checkpoint starts the WAL over: six batches, the room of about one
        assert wal_sizes[-1] < 2 * wal_sizes[0], wal_sizes
    finally:
        store.close()
    wait_for(lambda: set(threading.enumerate()) <= threads_before, 10, "the store's threads to end")
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT count(*) FROM records").fetchone()[0] == 6000
        assert (
            check.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'lorem'").fetchone()[0]
            == 6000
        )


def test_only_plain_sqlite_files_get_the_background_checkpointer() -> None:
    assert sqlite_file("sqlite:////tmp/x/a.db") == "/tmp/x/a.db"
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:///file:a.db?mode=memory&uri=true") is None
    assert sqlite_file("postgresql://u@h/db") is None
