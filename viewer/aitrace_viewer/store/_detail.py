# SQL is composed only from the schema's column names, constants and placeholders in this module:
# ruff: noqa: S608
"""One trace: its detail document, its compact span tree, one span's records, its records for export."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from sqlalchemy import Engine, text

from ._derive import format_ts
from ._traces import SUMMARY_SELECT, TraceRow, summary_from_row
from ._tree import TREE_SPAN_SQL, compact_tree

__all__ = ["span_records", "trace_json", "trace_records", "trace_size", "trace_tree_json"]

_encode = msgspec.json.Encoder().encode


class _SpanOut(msgspec.Struct, gc=False):
    """One span of the detail document (not tracked by the garbage collector: it holds no cycles)."""

    span_id: str
    parent_span_id: str | None
    name: str | None
    kind: str | None
    start: str | None
    end: str | None
    duration_ms: float | None
    status: str | None
    record_count: int
    children: list[str] | tuple[str, ...]


# The span rows of the detail document, read by these column indexes: a 10,000-span trace is 10,000 rows, and
# indexing a plain tuple costs a fraction of making a named one per row.
_SPAN_SELECT = (
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_us",
    "end_us",
    "duration_ms",
    "status",
    "record_count",
    "has_end",
)
_SPANS_SQL = f"SELECT {', '.join(_SPAN_SELECT)} FROM spans WHERE trace_id = {{p}} ORDER BY start_us, span_id"
_ID = _SPAN_SELECT.index("span_id")
_PARENT = _SPAN_SELECT.index("parent_span_id")
_NAME = _SPAN_SELECT.index("name")
_KIND = _SPAN_SELECT.index("kind")
_START = _SPAN_SELECT.index("start_us")
_END = _SPAN_SELECT.index("end_us")
_DURATION = _SPAN_SELECT.index("duration_ms")
_STATUS = _SPAN_SELECT.index("status")
_COUNT = _SPAN_SELECT.index("record_count")
_HAS_END = _SPAN_SELECT.index("has_end")


def _placeholder(pg: bool) -> str:
    return "%s" if pg else "?"


def _summary(cursor: Any, p: str, trace_id: str) -> TraceRow | None:
    """The trace's summary row; None when there is no such trace, or no start time for it yet."""
    cursor.execute(f"SELECT {SUMMARY_SELECT} FROM traces WHERE trace_id = {p}", (trace_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    summary = TraceRow._make(row)
    return None if summary.start_us is None else summary


def trace_json(reader: Engine, pg: bool, trace_id: str) -> bytes | None:
    """The detail document (UTF-8 JSON), assembled from the stored raw records without re-parsing them.

    Straight to the driver (no per-row result processing), and the span list built from objects the garbage
    collector does not track: a 10,000-span trace makes 10,000 of them.
    """
    p = _placeholder(pg)
    with reader.begin() as conn:  # one transaction: on SQLite, one snapshot for the three reads
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            if pg:
                # a big trace's records are sorted in memory, never in temporary files
                cursor.execute("SET LOCAL work_mem = '64MB'")
            summary = _summary(cursor, p, trace_id)
            if summary is None:
                return None
            cursor.execute(_SPANS_SQL.format(p=p), (trace_id,))
            span_rows = cursor.fetchall()
            cursor.execute(
                f"SELECT raw FROM records WHERE trace_id = {p} ORDER BY ts_us, seq, id", (trace_id,)
            )
            raws = ",".join([raw for (raw,) in cursor.fetchall()])
        finally:
            cursor.close()
    children: dict[str, list[str]] = {}
    for row in span_rows:
        if row[_PARENT] is not None:
            children.setdefault(row[_PARENT], []).append(row[_ID])
    no_children: tuple[str, ...] = ()
    spans = [
        _SpanOut(
            row[_ID],
            row[_PARENT],
            row[_NAME],
            row[_KIND],
            format_ts(row[_START]),
            format_ts(row[_END]) if row[_HAS_END] else None,
            row[_DURATION],
            row[_STATUS] if row[_HAS_END] else "running",
            row[_COUNT],
            children.get(row[_ID], no_children),
        )
        for row in span_rows
    ]
    return b"".join(
        (
            b'{"summary":',
            _encode(summary_from_row(summary)),
            b',"spans":',
            _encode(spans),
            b',"records":[',
            raws.encode(),
            b"]}",
        )
    )


def trace_tree_json(reader: Engine, pg: bool, trace_id: str) -> bytes | None:
    """The compact span tree (store/_tree.py): every span, none of the records."""
    p = _placeholder(pg)
    with reader.begin() as conn:  # one snapshot for both reads
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            summary = _summary(cursor, p, trace_id)
            if summary is None or summary.start_us is None:  # (the second test: for the type checker)
                return None
            t0_us = int(summary.start_us)
            cursor.execute(TREE_SPAN_SQL.format(p=p), (t0_us, t0_us, t0_us, trace_id))
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return compact_tree(summary_from_row(summary), t0_us, rows)


def trace_size(reader: Engine, trace_id: str) -> tuple[int, int] | None:
    """``(span_count, record_count)`` of a trace, or None when there is no such trace."""
    with reader.connect() as conn:
        row = conn.execute(
            text("SELECT span_count, record_count FROM traces WHERE trace_id = :t AND start_us IS NOT NULL"),
            {"t": trace_id},
        ).first()
    return None if row is None else (int(row.span_count), int(row.record_count))


def span_records(reader: Engine, pg: bool, trace_id: str, span_id: str, limit: int) -> tuple[list[str], bool]:
    """One span's stored records (raw JSON text) in time order, the first ``limit`` of them plus its end
    record when that is past the limit; and whether some were left out."""
    p = _placeholder(pg)
    # by ix_records_span: SQLite's planner, with no statistics, would take the trace's index instead
    # (all its records) unless the trace_id term is kept from indexes (unary +)
    head = f"SELECT raw FROM records WHERE {'trace_id' if pg else '+trace_id'} = {p} AND span_id = {p}"
    with reader.begin() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(f"{head} ORDER BY ts_us, seq, id LIMIT {p}", (trace_id, span_id, limit + 1))
            raws = [raw for (raw,) in cursor.fetchall()]
            more = len(raws) > limit
            if more:
                del raws[limit:]
                cursor.execute(
                    f"{head} AND event = 'span_end' ORDER BY ts_us DESC, seq DESC, id DESC LIMIT 1",
                    (trace_id, span_id),
                )
                raws += [raw for (raw,) in cursor.fetchall() if raw not in raws]
        finally:
            cursor.close()
    return raws, more


def trace_records(reader: Engine, trace_id: str) -> list[dict[str, Any]]:
    """A trace's records, parsed, in time order."""
    with reader.connect() as conn:
        raws = (
            conn.execute(
                text("SELECT raw FROM records WHERE trace_id = :t ORDER BY ts_us, seq, id"), {"t": trace_id}
            )
            .scalars()
            .all()
        )
    return [json.loads(r) for r in raws]
