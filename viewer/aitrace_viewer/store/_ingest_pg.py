# SQL is composed only from the schema's column names and constants in this module:
# ruff: noqa: S608
"""Ingest on PostgreSQL: one batch in one transaction, COPied through scratch tables by psycopg."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, String
from sqlalchemy.dialects import postgresql

from ._derive import parse_ts, search_text, span_deltas
from ._ingest import (
    RECORD_COLUMNS,
    SPAN_COLUMNS,
    IngestResult,
    record_row,
    span_values,
    upsert_spans_sql,
    without_nul,
)
from ._summary import PgSummaryCursor, summarise
from ._tables import records

__all__ = ["ingest_pg"]

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_RECORD_LIST = ", ".join(RECORD_COLUMNS)


def _scratch_type(name: str) -> str:
    """A ``records`` column's type in the scratch table: text for strings (``records`` checks lengths)."""
    kind = records.c[name].type
    return "text" if isinstance(kind, String) else kind.compile(dialect=_PG).lower()


# Per session (ON COMMIT DELETE ROWS): the batch's records numbered ``n`` in batch order, with search text
_RECORD_SCRATCH = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_rows (n integer, "
    + ", ".join(f"{name} {_scratch_type(name)}" for name in RECORD_COLUMNS)
    + ", body text) ON COMMIT DELETE ROWS"
)
_SPAN_SCRATCH = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_spans (LIKE spans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_SCRATCH_MADE = "aitrace_scratch"  # key in the pooled connection's info: its session has the scratch tables

_INSERT_BATCH = (
    "INSERT INTO ingest_batches (batch_id, received_us, records) VALUES (%s, %s, %s) "
    "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id"
)
# lock the batch's trace rows in a fixed order, so concurrent workers summarise one at a time
_CREATE_TRACES = (
    "INSERT INTO traces (trace_id) SELECT t FROM unnest(%s::text[]) AS t ORDER BY t "
    "ON CONFLICT (trace_id) DO NOTHING"
)
_LOCK_TRACES = "SELECT trace_id FROM traces WHERE trace_id = ANY(%s) ORDER BY trace_id FOR UPDATE"
_COPY_RECORDS = f"COPY ingest_rows (n, {_RECORD_LIST}, body) FROM STDIN"
_INSERT_RECORDS = (
    f"INSERT INTO records ({_RECORD_LIST}, search) "
    f"SELECT {_RECORD_LIST}, to_tsvector('simple', body) FROM ingest_rows ORDER BY n"
)
_COPY_SPANS = f"COPY ingest_spans ({', '.join(SPAN_COLUMNS)}) FROM STDIN"
_UPSERT_SPANS = upsert_spans_sql(f"SELECT {', '.join(SPAN_COLUMNS)} FROM ingest_spans")


def ingest_pg(
    writer: Engine,
    write_lock: threading.Lock,
    records: list[dict[str, Any]],
    raws: list[str],
    batch_id: str | None,
) -> IngestResult:
    """Store one validated, non-empty batch; a batch id seen before stores nothing.

    COPY into scratch tables, then one INSERT … SELECT per table (record ids in batch order): ~1.6x the rate
    of a pipelined executemany of the same rows.
    """
    ts = [parse_ts(r["timestamp"]) for r in records]
    deltas = span_deltas(records, ts)
    trace_ids = sorted({key[0] for key in deltas})
    rows = []
    nul = False
    for n, (record, raw, ts_us) in enumerate(zip(records, raws, ts, strict=True)):
        row = (n, *record_row(record, raw, ts_us), search_text(record))
        if "\\u0000" in raw:  # PostgreSQL text cannot hold NUL, and only that escape makes one
            row = without_nul(row)
            nul = True
        rows.append(row)
    span_rows = [span_values(d) for d in deltas.values()]
    if nul:  # span names, services, models … come from the records too
        span_rows = [without_nul(r) for r in span_rows]
    with write_lock, writer.begin() as conn:
        now_us = time.time_ns() // 1000
        # everything straight to psycopg, in the transaction SQLAlchemy began
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        session = conn.connection.info
        with dbapi.cursor() as cursor:
            if batch_id is not None:
                inserted = cursor.execute(_INSERT_BATCH, (batch_id, now_us, len(records))).fetchone()
                if inserted is None:
                    return IngestResult(0, duplicate=True)
            cursor.execute(_CREATE_TRACES, (trace_ids,))
            cursor.execute(_LOCK_TRACES, (trace_ids,))
            if not session.get(_SCRATCH_MADE):
                cursor.execute(_RECORD_SCRATCH)
                cursor.execute(_SPAN_SCRATCH)
                session[_SCRATCH_MADE] = True
            with cursor.copy(_COPY_RECORDS) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_INSERT_RECORDS)
            with cursor.copy(_COPY_SPANS) as copy:
                for span_row in span_rows:
                    copy.write_row(span_row)
            cursor.execute(_UPSERT_SPANS)
            summarise(PgSummaryCursor(cursor), trace_ids, now_us)
    return IngestResult(len(records), trace_ids=trace_ids)
