# SQL is composed only from the schema's column names and constants in this module:
# ruff: noqa: S608
"""Ingest on SQLite: one batch in one transaction, straight to the sqlite3 driver."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine

from ._derive import SpanDelta, parse_ts, search_text
from ._ingest import RECORD_COLUMNS, SPAN_COLUMNS, IngestResult, record_row, span_values, upsert_spans_sql
from ._summary import SqliteSummaryCursor, summarise
from ._tables import FULL_TEXT_TABLE

__all__ = ["ingest_sqlite"]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


_INSERT_BATCH = (
    "INSERT INTO ingest_batches (batch_id, received_us, records) VALUES (?, ?, ?) "
    "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id"
)
_INSERT_RECORDS = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({_marks(len(RECORD_COLUMNS))})"
_INSERT_FULL_TEXT = f"INSERT INTO {FULL_TEXT_TABLE} (rowid, body) VALUES (?, ?)"
# positional parameters from a tuple bind much faster than named ones from a dict (21 per span row)
_UPSERT_SPANS = upsert_spans_sql(f"VALUES ({_marks(len(SPAN_COLUMNS))})")


def ingest_sqlite(
    writer: Engine,
    write_lock: threading.Lock,
    records: list[dict[str, Any]],
    raws: list[str],
    batch_id: str | None,
) -> IngestResult:
    """Store one validated, non-empty batch; a batch id seen before stores nothing.

    One pass builds the rows and the span deltas before taking the write lock, and everything goes straight to
    sqlite3 (SQLAlchemy's per-row parameter handling costs more than the inserts). No text needs cleaning: the
    JSON decoder refuses lone surrogates, the one thing sqlite3 cannot store.
    """
    rows: list[tuple[Any, ...]] = []
    bodies: list[str] = []
    deltas: dict[tuple[str, str], SpanDelta] = {}
    for record, raw in zip(records, raws, strict=True):
        ts_us = parse_ts(record["timestamp"])
        trace_id, span_id = record["trace_id"], record["span_id"]
        delta = deltas.get((trace_id, span_id))
        if delta is None:
            delta = deltas[trace_id, span_id] = SpanDelta(trace_id, span_id)
        delta.add(record, ts_us)
        rows.append(record_row(record, raw, ts_us))
        bodies.append(search_text(record))
    trace_ids = sorted({key[0] for key in deltas})
    span_rows = [span_values(d) for d in deltas.values()]
    with write_lock, writer.begin() as conn:
        now_us = time.time_ns() // 1000
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            if batch_id is not None:
                cursor.execute(_INSERT_BATCH, (batch_id, now_us, len(records)))
                inserted = cursor.fetchone()
                cursor.fetchall()  # finish the statement
                if inserted is None:
                    return IngestResult(0, duplicate=True)
            # SQLite numbers the rows max(id)+1, +2, … (one writer, one transaction): the full-text rows
            # take the same numbers, checked below
            first = cursor.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0] + 1
            cursor.executemany(_INSERT_RECORDS, rows)
            last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            if last != first + len(rows) - 1:
                raise RuntimeError(f"record ids {first}..{last} are not consecutive")
            cursor.executemany(_INSERT_FULL_TEXT, zip(range(first, first + len(bodies)), bodies, strict=True))
            cursor.executemany(_UPSERT_SPANS, span_rows)
            summarise(SqliteSummaryCursor(cursor), trace_ids, now_us)
        finally:
            cursor.close()
    return IngestResult(len(records), trace_ids=trace_ids)
