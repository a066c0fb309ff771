# SQL is written out in full, and composed only from constants and placeholders in this module:
# ruff: noqa: E501, S608
"""The store: raw records (the source of truth) plus span and trace summaries kept up to date at ingest."""

from __future__ import annotations

import abc
import base64
import functools
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import msgspec
from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.exc import IntegrityError

from ._derive import SpanDelta, format_ts, parse_ts, search_text, span_deltas
from ._engine import make_engines, sqlite_file, upgrade
from ._tree import TREE_SPAN_SQL, compact_tree

__all__ = ["IngestResult", "Store", "TraceFilters"]

_SUMMARY_COLUMNS = (
    "trace_id, root_span_id, root_name, root_kind, service, start_us, end_us, last_us, duration_ms, span_count, "
    "record_count, error_count, status, input_tokens, output_tokens, total_tokens, cost_usd, model, thread_id, "
    "incomplete"
)
_SPAN_COLUMNS = (
    "span_id, parent_span_id, name, kind, start_us, end_us, last_us, duration_ms, status, record_count, has_start, "
    "has_end"
)


def _max(column: str) -> str:
    return f"CASE WHEN excluded.{column} > spans.{column} THEN excluded.{column} ELSE spans.{column} END"


def _min(column: str) -> str:
    return (
        f"CASE WHEN spans.{column} IS NULL OR excluded.{column} < spans.{column} "
        f"THEN excluded.{column} ELSE spans.{column} END"
    )


_UPSERT_SPANS = f"""
INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, service, start_us, last_us, end_us, duration_ms,
    status, record_count, has_start, has_end, incomplete, input_tokens, output_tokens, total_tokens, cost_usd, model,
    thread_id)
VALUES (:trace_id, :span_id, :parent_span_id, :name, :kind, :service, :start_us, :last_us, :end_us, :duration_ms,
    :status, :record_count, :has_start, :has_end, :incomplete, :input_tokens, :output_tokens, :total_tokens,
    :cost_usd, :model, :thread_id)
ON CONFLICT (trace_id, span_id) DO UPDATE SET
    parent_span_id = COALESCE(spans.parent_span_id, excluded.parent_span_id),
    name = CASE WHEN excluded.has_start = 1 THEN excluded.name ELSE COALESCE(spans.name, excluded.name) END,
    kind = CASE WHEN excluded.has_start = 1 THEN excluded.kind ELSE COALESCE(spans.kind, excluded.kind) END,
    service = COALESCE(spans.service, excluded.service),
    start_us = {_min("start_us")},
    last_us = {_max("last_us")},
    end_us = COALESCE(excluded.end_us, spans.end_us),
    duration_ms = COALESCE(excluded.duration_ms, spans.duration_ms),
    status = COALESCE(excluded.status, spans.status),
    record_count = spans.record_count + excluded.record_count,
    has_start = {_max("has_start")},
    has_end = {_max("has_end")},
    incomplete = {_max("incomplete")},
    input_tokens = COALESCE(excluded.input_tokens, spans.input_tokens),
    output_tokens = COALESCE(excluded.output_tokens, spans.output_tokens),
    total_tokens = COALESCE(excluded.total_tokens, spans.total_tokens),
    cost_usd = COALESCE(excluded.cost_usd, spans.cost_usd),
    model = COALESCE(excluded.model, spans.model),
    thread_id = COALESCE(spans.thread_id, excluded.thread_id)
"""

# SQLite binds positional parameters from a tuple much faster than named ones from a dict (21 per row)
_SPAN_PARAMS = tuple(re.findall(r":(\w+)", _UPSERT_SPANS))
_UPSERT_SPANS_QMARK = re.sub(r":\w+", "?", _UPSERT_SPANS)
_span_values = attrgetter(*_SPAN_PARAMS)
# on PostgreSQL the span rows are COPied into a scratch table and upserted by one INSERT … SELECT
_SPAN_COLUMNS_PG = ", ".join(_SPAN_PARAMS)
_UPSERT_SPANS_PG = re.sub(
    r"VALUES \(.*?\)\s*ON CONFLICT",
    f"SELECT {_SPAN_COLUMNS_PG} FROM ingest_spans ON CONFLICT",
    _UPSERT_SPANS,
    flags=re.DOTALL,
)
_PG_SPAN_SCRATCH = """
CREATE TEMP TABLE IF NOT EXISTS ingest_spans (LIKE spans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""

_PG_COLUMNS = "trace_id, span_id, parent_span_id, ts_us, seq, level, logger, event, service, raw"
_PG_SCRATCH = """
CREATE TEMP TABLE IF NOT EXISTS ingest_rows (n integer, trace_id text, span_id text, parent_span_id text,
    ts_us bigint, seq bigint, level text, logger text, event text, service text, raw text, body text)
ON COMMIT DELETE ROWS
"""

_AGGREGATE = """
SELECT trace_id, count(*), sum(record_count), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), min(start_us),
    max(last_us), max(end_us), sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(cost_usd), min(model),
    min(thread_id), max(incomplete), sum(CASE WHEN has_start = 0 OR has_end = 0 THEN 1 ELSE 0 END), min(service)
FROM spans WHERE trace_id IN :ids GROUP BY trace_id
"""

_ROOTS = """
SELECT trace_id, span_id, name, kind, service, start_us, end_us, duration_ms, status, has_end, has_start
FROM spans WHERE trace_id IN :ids AND parent_span_id IS NULL ORDER BY trace_id, start_us
"""

_UPSERT_TRACE = f"""
INSERT INTO traces ({_SUMMARY_COLUMNS}, updated_us)
VALUES (:trace_id, :root_span_id, :root_name, :root_kind, :service, :start_us, :end_us, :last_us, :duration_ms,
    :span_count, :record_count, :error_count, :status, :input_tokens, :output_tokens, :total_tokens, :cost_usd,
    :model, :thread_id, :incomplete, :updated_us)
ON CONFLICT (trace_id) DO UPDATE SET
    root_span_id = excluded.root_span_id, root_name = excluded.root_name, root_kind = excluded.root_kind,
    service = excluded.service, start_us = excluded.start_us, end_us = excluded.end_us, last_us = excluded.last_us,
    duration_ms = excluded.duration_ms, span_count = excluded.span_count, record_count = excluded.record_count,
    error_count = excluded.error_count, status = excluded.status, input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens, total_tokens = excluded.total_tokens, cost_usd = excluded.cost_usd,
    model = excluded.model, thread_id = excluded.thread_id, incomplete = excluded.incomplete,
    updated_us = excluded.updated_us
"""


TEXT_FILTER_HITS = 20_000
"""The trace list's ``q`` filter looks at this many of the newest matching records (bounded cost)."""


@dataclass
class IngestResult:
    ingested: int
    duplicate: bool = False
    trace_ids: list[str] = field(default_factory=list)


@dataclass
class TraceFilters:
    service: str | None = None
    status: str | None = None
    errors: bool = False
    since_us: int | None = None
    until_us: int | None = None
    min_duration_ms: float | None = None
    max_duration_ms: float | None = None
    model: str | None = None
    thread_id: str | None = None
    span_name: str | None = None
    q: str | None = None


def _record_row(record: dict[str, Any], raw: str, ts_us: int) -> tuple[Any, ...]:
    """The ``records`` columns of one validated record (``trace_id`` … ``service``, ``raw``)."""
    seq = record.get("seq")
    return (
        record["trace_id"],
        record["span_id"],
        record.get("parent_span_id"),
        ts_us,
        seq if type(seq) is int and seq < 2**63 else None,
        record["level"],
        record["logger"],
        record["event"],
        record["service"],
        raw,
    )


def _without_nul(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: U+FFFD instead (the stored raw record keeps its escape)."""
    return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)


def fts_query(q: str) -> str:
    """User text → an FTS5 query matching every word (quoted, so no query syntax leaks through)."""
    words = [w for w in q.split() if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def encode_cursor(start_us: int, trace_id: str) -> str:
    return base64.urlsafe_b64encode(f"{start_us}:{trace_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError on anything that is not a cursor this server made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    start, _, trace_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").partition(":")
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):
        raise ValueError("bad cursor")
    return int(start), trace_id


def summary_from_row(row: Sequence[Any]) -> dict[str, Any]:
    (
        trace_id,
        _root,
        root_name,
        root_kind,
        service,
        start_us,
        end_us,
        _last,
        duration_ms,
        span_count,
        record_count,
        error_count,
        status,
        input_tokens,
        output_tokens,
        total_tokens,
        cost_usd,
        model,
        thread_id,
        incomplete,
    ) = row[:20]
    running = status == "running"  # (rows written before running traces had no duration carry one)
    return {
        "trace_id": trace_id,
        "root_name": root_name,
        "root_kind": root_kind,
        "service": service,
        "start": format_ts(start_us),
        "end": None if running else format_ts(end_us),
        "duration_ms": None if running else duration_ms,
        "span_count": span_count,
        "record_count": record_count,
        "error_count": error_count,
        "status": status,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total_tokens,
        "cost_usd": cost_usd,
        "model": model,
        "thread_id": thread_id,
        "incomplete": bool(incomplete),
    }


log = logging.getLogger(__name__)

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


class _Checkpointer:
    """Checkpoints a SQLite WAL from its own thread and connection, so that commits do not wait for it.

    SQLite's automatic checkpoint runs inside the COMMIT of whichever write crosses the threshold (copying the
    WAL into the database file and syncing it). Here the writer has it off and pokes this thread after each
    commit instead; it runs a PASSIVE checkpoint (never blocks writers or readers) on its own connection.
    Pokes that arrive while a checkpoint runs coalesce into one. Durability does not depend on checkpoints
    (a commit is in the WAL; kill -9 recovery replays it); if this thread ever stopped, the WAL would grow.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="aitrace-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A commit happened."""
        self._wake.set()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or gone: the next poke tries again
                    log.debug("background checkpoint failed: %s", exc)
        finally:
            db.close()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)


class _Run(abc.ABC):
    """Runs the summary SQL (``:ids`` is a list of trace ids; other parameters are named)."""

    @abc.abstractmethod
    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]: ...

    @abc.abstractmethod
    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None: ...


class _PgRun(_Run):
    """The same SQL straight to a psycopg cursor: ``IN :ids`` becomes ``= ANY(%s)`` (one statement text for
    any number of ids, so psycopg prepares it once), ``:name`` becomes ``%(name)s``."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]:
        rows: list[Sequence[Any]] = self.cursor.execute(_pg_sql(sql), {"ids": ids}).fetchall()
        return rows

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.cursor.executemany(_pg_sql(sql), rows)


@functools.lru_cache(maxsize=16)
def _pg_sql(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql.replace("IN :ids", "= ANY(:ids)"))


class _SqliteRun(_Run):
    """The same SQL straight to a sqlite3 cursor."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]:
        rows: list[Sequence[Any]] = self.cursor.execute(
            sql.replace(":ids", "(" + ",".join("?" * len(ids)) + ")"), ids
        ).fetchall()
        return rows

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.cursor.executemany(sql, rows)


class Store:
    """All database work. Methods are synchronous; the server calls them from worker threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        path = sqlite_file(url)
        self.writer, self.reader = make_engines(url, background_checkpoint=path is not None)
        self._checkpointer = _Checkpointer(path) if path is not None else None
        self.dialect = self.writer.dialect.name
        self.pg = self.dialect == "postgresql"
        self._write_lock = (
            threading.Lock()
        )  # one writer per process on SQLite (BEGIN IMMEDIATE across processes)
        if migrate:
            upgrade(self.writer)

    @property
    def database(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

    # ---------------------------------------------------------------- writes

    def _committed(self) -> None:
        """After a SQLite write: the WAL may want checkpointing."""
        if self._checkpointer is not None:
            self._checkpointer.poke()

    def ingest(
        self, records: list[dict[str, Any]], raws: list[str], batch_id: str | None = None
    ) -> IngestResult:
        """Store one validated batch in one transaction; a batch id seen before stores nothing."""
        if not records:
            return IngestResult(0)
        if self.pg:
            ts = [parse_ts(r["timestamp"]) for r in records]
            deltas = span_deltas(records, ts)
            return self._ingest_pg(records, raws, ts, deltas, sorted({key[0] for key in deltas}), batch_id)
        # SQLite: one pass builds the rows and the span deltas before taking the write lock, and everything goes
        # straight to sqlite3 (the same SQL; SQLAlchemy's per-row parameter handling costs more than the inserts)
        rows: list[tuple[Any, ...]] = []
        bodies: list[str] = []
        deltas = {}
        # (no text needs cleaning for SQLite: the JSON decoder refuses lone surrogates, the one thing sqlite3
        # cannot store; PostgreSQL also refuses NUL, hence _without_nul there)
        for record, raw in zip(records, raws, strict=True):
            ts_us = parse_ts(record["timestamp"])
            trace_id, span_id = record["trace_id"], record["span_id"]
            delta = deltas.get((trace_id, span_id))
            if delta is None:
                delta = deltas[trace_id, span_id] = SpanDelta(trace_id, span_id)
            delta.add(record, ts_us)
            rows.append(_record_row(record, raw, ts_us))
            bodies.append(search_text(record))
        trace_ids = sorted({key[0] for key in deltas})
        span_rows = [_span_values(d) for d in deltas.values()]
        with self._write_lock, self.writer.begin() as conn:
            now_us = time.time_ns() // 1000
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            try:
                if batch_id is not None:
                    cursor.execute(
                        "INSERT INTO ingest_batches (batch_id, received_us, records) VALUES (?, ?, ?) "
                        "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
                        (batch_id, now_us, len(records)),
                    )
                    inserted = cursor.fetchone()
                    cursor.fetchall()  # finish the statement
                    if inserted is None:
                        return IngestResult(0, duplicate=True)
                # SQLite numbers the rows max(id)+1, +2, … (one writer, one transaction): the full-text rows
                # take the same numbers, checked below
                first = cursor.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0] + 1
                cursor.executemany(
                    "INSERT INTO records (trace_id, span_id, parent_span_id, ts_us, seq, level, logger, event, "
                    "service, raw) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
                if last != first + len(rows) - 1:
                    raise RuntimeError(f"record ids {first}..{last} are not consecutive")
                cursor.executemany(
                    "INSERT INTO records_fts (rowid, body) VALUES (?, ?)",
                    zip(range(first, first + len(bodies)), bodies, strict=True),
                )
                cursor.executemany(_UPSERT_SPANS_QMARK, span_rows)
                self._summarise(_SqliteRun(cursor), trace_ids, now_us)
            finally:
                cursor.close()
        self._committed()
        return IngestResult(len(records), trace_ids=trace_ids)

    def _ingest_pg(
        self,
        records: list[dict[str, Any]],
        raws: list[str],
        ts: list[int],
        deltas: dict[tuple[str, str], SpanDelta],
        trace_ids: list[str],
        batch_id: str | None,
    ) -> IngestResult:
        rows = []
        nul = False
        for n, (record, raw, ts_us) in enumerate(zip(records, raws, ts, strict=True)):
            row = (n, *_record_row(record, raw, ts_us), search_text(record))
            if "\\u0000" in raw:  # PostgreSQL text cannot hold NUL, and only that escape makes one
                row = _without_nul(row)
                nul = True
            rows.append(row)
        span_rows = [_span_values(d) for d in deltas.values()]
        if nul:  # span names, services, models … come from the records too
            span_rows = [_without_nul(r) for r in span_rows]
        with self._write_lock, self.writer.begin() as conn:
            now_us = time.time_ns() // 1000
            # everything straight to psycopg, in the transaction SQLAlchemy began
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            scratch = conn.connection.info  # per connection: the session's temporary tables exist already
            with dbapi.cursor() as cursor:
                if batch_id is not None:
                    inserted = cursor.execute(
                        "INSERT INTO ingest_batches (batch_id, received_us, records) VALUES (%s, %s, %s) "
                        "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
                        (batch_id, now_us, len(records)),
                    ).fetchone()
                    if inserted is None:
                        return IngestResult(0, duplicate=True)
                # lock the batch's trace rows in a fixed order, so concurrent workers summarise one at a time
                cursor.execute(
                    "INSERT INTO traces (trace_id) SELECT t FROM unnest(%s::text[]) AS t ORDER BY t "
                    "ON CONFLICT (trace_id) DO NOTHING",
                    (trace_ids,),
                )
                cursor.execute(
                    "SELECT trace_id FROM traces WHERE trace_id = ANY(%s) ORDER BY trace_id FOR UPDATE",
                    (trace_ids,),
                )
                if not scratch.get("aitrace_scratch"):
                    cursor.execute(_PG_SCRATCH)
                    cursor.execute(_PG_SPAN_SCRATCH)
                    scratch["aitrace_scratch"] = True
                # COPY into a scratch table, then one INSERT … SELECT (ids in batch order): ~1.6x the rate of
                # a pipelined executemany of the same rows
                with cursor.copy("COPY ingest_rows FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(
                    f"INSERT INTO records ({_PG_COLUMNS}, search) "
                    f"SELECT {_PG_COLUMNS}, to_tsvector('simple', body) FROM ingest_rows ORDER BY n"
                )
                with cursor.copy(f"COPY ingest_spans ({_SPAN_COLUMNS_PG}) FROM STDIN") as copy:
                    for span_row in span_rows:
                        copy.write_row(span_row)
                cursor.execute(_UPSERT_SPANS_PG)
                self._summarise(_PgRun(cursor), trace_ids, now_us)
        return IngestResult(len(records), trace_ids=trace_ids)

    def _summarise(self, run: _Run, trace_ids: list[str], now_us: int) -> None:
        """Recompute the trace rows of ``trace_ids`` from their span rows."""
        out = []
        for start in range(0, len(trace_ids), 500):
            chunk = trace_ids[start : start + 500]
            roots: dict[str, Any] = {}
            for row in run.select_in(_ROOTS, chunk):
                roots.setdefault(row[0], row)
            for row in run.select_in(_AGGREGATE, chunk):
                (
                    trace_id,
                    span_count,
                    record_count,
                    error_count,
                    start_us,
                    last_us,
                    max_end,
                    in_tok,
                    out_tok,
                    tot_tok,
                    cost,
                    model,
                    thread_id,
                    incomplete,
                    open_spans,
                    any_service,
                ) = row
                root = roots.get(trace_id)
                if root is None:  # the root's records have not arrived yet: still running
                    root_span_id = root_name = root_kind = None
                    status, service, ended = "running", any_service, False
                    end_us = max_end if max_end is not None else last_us
                    duration = None
                else:
                    (
                        _t,
                        root_span_id,
                        root_name,
                        root_kind,
                        service,
                        _s,
                        root_end,
                        root_dur,
                        root_status,
                        has_end,
                        has_start,
                    ) = root
                    ended = bool(has_end)
                    status = (root_status or "ok") if ended else "running"
                    end_us = root_end if ended else last_us
                    if not has_start and not has_end and span_count == 1:  # log lines outside any span
                        root_kind, status, end_us, open_spans = "log", "ok", last_us, 0
                    if status == "running":  # no end yet: no duration (the pages count the time elapsed)
                        duration = None
                    elif root_dur is not None:
                        duration = root_dur
                    else:
                        duration = (
                            None if start_us is None or end_us is None else (end_us - start_us) / 1000.0
                        )
                    service = service or any_service
                out.append(
                    {
                        "trace_id": trace_id,
                        "root_span_id": root_span_id,
                        "root_name": root_name,
                        "root_kind": root_kind,
                        "service": service,
                        "start_us": start_us,
                        "end_us": end_us,
                        "last_us": last_us,
                        "duration_ms": duration,
                        "span_count": span_count,
                        "record_count": record_count,
                        "error_count": error_count,
                        "status": status,
                        "input_tokens": in_tok,
                        "output_tokens": out_tok,
                        "total_tokens": tot_tok,
                        "cost_usd": cost,
                        "model": model,
                        "thread_id": thread_id,
                        "incomplete": 1
                        if incomplete or (ended and open_spans) or (root is None and ended)
                        else 0,
                        "updated_us": now_us,
                    }
                )
        if out:
            run.executemany(_UPSERT_TRACE, out)

    def delete_trace(self, trace_id: str) -> int:
        """Remove a trace's records and summaries; returns how many records went."""
        return self._delete([trace_id])

    def _delete(self, trace_ids: list[str]) -> int:
        if not trace_ids:
            return 0
        ids: BindParameter[Any] = bindparam("ids", expanding=True)
        with self._write_lock, self.writer.begin() as conn:
            if not self.pg:
                conn.execute(
                    text(
                        "DELETE FROM records_fts WHERE rowid IN (SELECT id FROM records WHERE trace_id IN :ids)"
                    ).bindparams(ids),
                    {"ids": trace_ids},
                )
            deleted = conn.execute(
                text("DELETE FROM records WHERE trace_id IN :ids").bindparams(ids), {"ids": trace_ids}
            ).rowcount
            conn.execute(text("DELETE FROM spans WHERE trace_id IN :ids").bindparams(ids), {"ids": trace_ids})
            conn.execute(
                text("DELETE FROM traces WHERE trace_id IN :ids").bindparams(ids), {"ids": trace_ids}
            )
        self._committed()
        return int(deleted or 0)

    def prune(self, older_than_s: float) -> tuple[int, int]:
        """Delete traces whose newest record is older than ``older_than_s`` seconds: ``(traces, records)``."""
        cutoff = time.time_ns() // 1000 - int(older_than_s * 1_000_000)
        n_traces = n_records = 0
        while True:
            with self.reader.connect() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        text("SELECT trace_id FROM traces WHERE last_us < :c LIMIT 500"), {"c": cutoff}
                    )
                ]
            if not ids:
                break
            n_records += self._delete(ids)
            n_traces += len(ids)
        with self._write_lock, self.writer.begin() as conn:
            conn.execute(text("DELETE FROM ingest_batches WHERE received_us < :c"), {"c": cutoff})
        self._committed()
        return n_traces, n_records

    # ---------------------------------------------------------------- reads

    def analyze(self) -> None:
        """After a bulk load: give PostgreSQL's planner the tables' statistics now, not at the next autovacuum
        (planning with none, a text filter on a common word took 493 ms instead of 53 at a million records).
        SQLite has no autovacuum analysis, and its plans here are chosen without statistics: nothing to do."""
        if self.pg:
            with self.writer.begin() as conn:
                conn.execute(text("ANALYZE records, spans, traces"))

    def count_records(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(SUM(record_count), 0) FROM traces")).scalar_one())

    def list_traces(
        self, filters: TraceFilters, limit: int = 50, cursor: str | None = None, oldest_first: bool = False
    ) -> tuple[list[dict[str, Any]], str | None]:
        where: list[str] = []
        params: dict[str, Any] = {}
        f = filters
        for column, value in (
            ("service", f.service),
            ("status", f.status),
            ("model", f.model),
            ("thread_id", f.thread_id),
        ):
            if value is not None:
                where.append(f"{column} = :{column}")
                params[column] = value
        if f.errors:
            where.append("error_count > 0")
        if f.since_us is not None:
            where.append("start_us >= :since")
            params["since"] = f.since_us
        if f.until_us is not None:
            where.append("start_us <= :until")
            params["until"] = f.until_us
        if f.min_duration_ms is not None:
            where.append("duration_ms >= :min_d")
            params["min_d"] = f.min_duration_ms
        if f.max_duration_ms is not None:
            where.append("duration_ms <= :max_d")
            params["max_d"] = f.max_duration_ms
        if f.span_name is not None:
            where.append("trace_id IN (SELECT trace_id FROM spans WHERE name = :span_name)")
            params["span_name"] = f.span_name
        if f.q:
            if self.pg:
                where.append(
                    "trace_id IN (SELECT trace_id FROM records WHERE search @@ plainto_tsquery('simple', :q) "
                    f"ORDER BY id DESC LIMIT {TEXT_FILTER_HITS})"
                )
                params["q"] = f.q
            else:
                match = fts_query(f.q)
                if match:
                    where.append(  # bounded: the newest TEXT_FILTER_HITS matching records
                        "trace_id IN (SELECT trace_id FROM records WHERE id IN "
                        "(SELECT rowid FROM records_fts WHERE records_fts MATCH :q "
                        f"ORDER BY rowid DESC LIMIT {TEXT_FILTER_HITS}))"
                    )
                    params["q"] = match
        if cursor is not None:
            c_start, c_trace = decode_cursor(cursor)
            op = ">" if oldest_first else "<"
            where.append(f"(start_us {op} :c_start OR (start_us = :c_start AND trace_id {op} :c_trace))")
            params["c_start"], params["c_trace"] = c_start, c_trace
        order = "ASC" if oldest_first else "DESC"
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} FROM traces"
            + (" WHERE start_us IS NOT NULL" + "".join(" AND " + w for w in where))
            + f" ORDER BY start_us {order}, trace_id {order} LIMIT :limit"
        )
        params["limit"] = limit + 1
        with self.reader.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1][5], rows[-1][0])
        return [summary_from_row(r) for r in rows], next_cursor

    def trace_json(self, trace_id: str) -> bytes | None:
        """The detail document (UTF-8 JSON), assembled from the stored raw records without re-parsing them.

        Straight to the driver (no per-row result processing), and the span list built from objects the garbage
        collector does not track: a 10,000-span trace makes 10,000 of them.
        """
        p = "%s" if self.pg else "?"
        with self.reader.begin() as conn:  # one transaction: on SQLite, one snapshot for the three reads
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            try:
                if self.pg:
                    # a big trace's records are sorted in memory, never in temporary files
                    cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute(f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE trace_id = {p}", (trace_id,))
                summary = cursor.fetchone()
                if summary is None or summary[5] is None:
                    return None
                cursor.execute(
                    f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = {p} ORDER BY start_us, span_id",
                    (trace_id,),
                )
                span_rows = cursor.fetchall()
                cursor.execute(
                    f"SELECT raw FROM records WHERE trace_id = {p} ORDER BY ts_us, seq, id", (trace_id,)
                )
                raws = ",".join([row[0] for row in cursor.fetchall()])
            finally:
                cursor.close()
        children: dict[str, list[str]] = {}
        for row in span_rows:
            if row[1] is not None:
                children.setdefault(row[1], []).append(row[0])
        no_children: tuple[str, ...] = ()
        spans = [
            _SpanOut(
                sid,
                parent,
                name,
                kind,
                format_ts(start),
                format_ts(end) if has_end else None,
                duration,
                status if has_end else "running",
                count,
                children.get(sid, no_children),
            )
            for (
                sid,
                parent,
                name,
                kind,
                start,
                end,
                _last,
                duration,
                status,
                count,
                _has_start,
                has_end,
            ) in span_rows
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

    def trace_size(self, trace_id: str) -> tuple[int, int] | None:
        """``(span_count, record_count)`` of a trace, or None when there is no such trace."""
        with self.reader.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT span_count, record_count FROM traces WHERE trace_id = :t AND start_us IS NOT NULL"
                ),
                {"t": trace_id},
            ).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def trace_tree_json(self, trace_id: str) -> bytes | None:
        """The compact span tree (store/_tree.py): every span, none of the records."""
        p = "%s" if self.pg else "?"
        with self.reader.begin() as conn:  # one snapshot for both reads
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            try:
                cursor.execute(f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE trace_id = {p}", (trace_id,))
                summary = cursor.fetchone()
                if summary is None or summary[5] is None:
                    return None
                t0_us = int(summary[5])
                cursor.execute(TREE_SPAN_SQL.format(p=p), (t0_us, t0_us, t0_us, trace_id))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return compact_tree(summary_from_row(summary), t0_us, rows)

    def span_records(self, trace_id: str, span_id: str, limit: int = 2000) -> tuple[list[str], bool]:
        """One span's stored records (raw JSON text) in time order, the first ``limit`` of them plus its end
        record when that is past the limit; and whether some were left out."""
        p = "%s" if self.pg else "?"
        # by ix_records_span: SQLite's planner, with no statistics, would take the trace's index instead
        # (all its records) unless the trace_id term is kept from indexes (unary +)
        head = (
            f"SELECT raw FROM records WHERE {'trace_id' if self.pg else '+trace_id'} = {p} AND span_id = {p}"
        )
        with self.reader.begin() as conn:
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            try:
                cursor.execute(f"{head} ORDER BY ts_us, seq, id LIMIT {p}", (trace_id, span_id, limit + 1))
                raws = [row[0] for row in cursor.fetchall()]
                more = len(raws) > limit
                if more:
                    del raws[limit:]
                    cursor.execute(
                        f"{head} AND event = 'span_end' ORDER BY ts_us DESC, seq DESC, id DESC LIMIT 1",
                        (trace_id, span_id),
                    )
                    raws += [row[0] for row in cursor.fetchall() if row[0] not in raws]
            finally:
                cursor.close()
        return raws, more

    def trace_records(self, trace_id: str) -> list[dict[str, Any]]:
        with self.reader.connect() as conn:
            raws = (
                conn.execute(
                    text("SELECT raw FROM records WHERE trace_id = :t ORDER BY ts_us, seq, id"),
                    {"t": trace_id},
                )
                .scalars()
                .all()
            )
        return [json.loads(r) for r in raws]

    def search(self, q: str, limit: int = 50) -> list[dict[str, Any]]:
        if self.pg:
            sql = (
                "SELECT trace_id, span_id, ts_us, event, raw FROM records "
                "WHERE search @@ plainto_tsquery('simple', :q) ORDER BY id DESC LIMIT :limit"
            )
            params: dict[str, Any] = {"q": q, "limit": limit}
        else:
            match = fts_query(q)
            if not match:
                return []
            sql = (
                "SELECT r.trace_id, r.span_id, r.ts_us, r.event, "
                "snippet(records_fts, 0, '', '', '…', 16) FROM records_fts JOIN records r ON r.id = records_fts.rowid "
                "WHERE records_fts MATCH :q ORDER BY records_fts.rowid DESC LIMIT :limit"
            )
            params = {"q": match, "limit": limit}
        with self.reader.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        hits = []
        for trace_id, span_id, ts_us, event, extra in rows:
            snippet = extra if not self.pg else _snippet(json.loads(extra), q)
            hits.append(
                {
                    "trace_id": trace_id,
                    "span_id": span_id,
                    "timestamp": format_ts(ts_us),
                    "event": event,
                    "snippet": snippet,
                }
            )
        return hits

    def changes_since(self, updated_us: int, limit: int = 200) -> list[tuple[int, dict[str, Any]]]:
        """Trace summaries changed after ``updated_us`` (for the event stream), oldest change first."""
        with self.reader.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT {_SUMMARY_COLUMNS}, updated_us FROM traces WHERE updated_us > :u AND start_us IS NOT NULL "
                    "ORDER BY updated_us LIMIT :limit"
                ),
                {"u": updated_us, "limit": limit},
            ).all()
        return [(int(r[20]), summary_from_row(r)) for r in rows]

    def latest_update(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(MAX(updated_us), 0) FROM traces")).scalar_one())

    def integrity_error(self) -> type[Exception]:
        return IntegrityError


def _snippet(record: dict[str, Any], q: str, width: int = 60) -> str:
    body = search_text(record)
    lowered = body.lower()
    for word in q.lower().split():
        at = lowered.find(word)
        if at >= 0:
            start = max(0, at - width)
            return ("…" if start else "") + body[start : at + len(word) + width] + "…"
    return body[: 2 * width]
