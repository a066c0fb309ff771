"""Ingest over HTTP (batches of 1,000, gzip like the shipper) against raw executemany of the same rows.

    python benchmarks/bench_ingest.py --records 100000 [--pg-url postgresql://…] [--no-pg]

Two raw baselines, one transaction per 1,000 records, the same pragmas, tables and indexes (on SQLite built
from the store's own schema, store/_tables.py, which a test holds equal to what the migrations make; on
PostgreSQL made by the migrations), rows computed before the clock starts, no parsing, validation or
summarising:

- "every row": what the server ends up writing for the batch: the records (and their index), the full-text
  rows, the span and trace summary rows as they finally are (each inserted once, by the batch that first
  mentions it; the server upserts them as records arrive), and the batch-id row.
  Target: HTTP ≥ 0.5× this rate.
- "records only": just the records and full-text rows, for comparison.

WAL checkpoints are arranged alike: the server's SQLite writer has SQLite's automatic checkpoint off and a
background thread with its own connection checkpoints (PASSIVE) after each commit; the SQLite baseline does
the same, so neither pays checkpoints on its commit path. What differs on purpose: on PostgreSQL the server
loads a batch by COPY and one INSERT … SELECT where the baseline uses executemany, as the target names.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import jsonl, make_records, postgres, server_process, table
from aitrace_viewer.store import Store, parse_ts
from aitrace_viewer.store._derive import search_text
from aitrace_viewer.store._ingest import RECORD_COLUMNS, record_row
from aitrace_viewer.store._tables import FULL_TEXT_TABLE, column_names, create_ddl, spans, traces
from sqlalchemy.dialects import sqlite

BATCH = 1000


_SPAN_COLS = ", ".join(column_names(spans))
_TRACE_COLS = ", ".join(column_names(traces))
_INSERT_SPAN = f"INSERT INTO spans ({_SPAN_COLS}) VALUES ({{}})"
_INSERT_TRACE = f"INSERT INTO traces ({_TRACE_COLS}) VALUES ({{}})"
_INSERT_BATCH = "INSERT INTO ingest_batches (batch_id, received_us, records) VALUES ({})"
_RECORD_COLS = ", ".join(RECORD_COLUMNS)  # in record_row's order


@dataclass
class Batch:
    """The rows one batch of 1,000 records makes."""

    records: list[tuple[Any, ...]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    spans: list[tuple[Any, ...]] = field(default_factory=list)
    traces: list[tuple[Any, ...]] = field(default_factory=list)
    batch: tuple[Any, ...] = ()


def batches_of(records: list[dict[str, Any]]) -> list[Batch]:
    """Every row the server writes, per batch: summaries as they finally are, read back from a store."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'rows.db'}")
        try:
            for i in range(0, len(records), BATCH):
                chunk = records[i : i + BATCH]
                store.ingest(chunk, [json.dumps(r, separators=(",", ":")) for r in chunk])
            with store.reader.connect() as conn:
                from sqlalchemy import text

                spans = {
                    (r[0], r[1]): tuple(r) for r in conn.execute(text(f"SELECT {_SPAN_COLS} FROM spans"))
                }
                traces = {r[0]: tuple(r) for r in conn.execute(text(f"SELECT {_TRACE_COLS} FROM traces"))}
        finally:
            store.close()
    out = []
    seen_spans: set[tuple[str, str]] = set()
    seen_traces: set[str] = set()
    for i in range(0, len(records), BATCH):
        batch = Batch(batch=(f"b{i // BATCH}", 0, min(BATCH, len(records) - i)))
        for r in records[i : i + BATCH]:
            raw = json.dumps(r, separators=(",", ":"))
            batch.records.append(record_row(r, raw, parse_ts(r["timestamp"])))
            batch.bodies.append(search_text(r))
            key = (r["trace_id"], r["span_id"])
            if key not in seen_spans:
                seen_spans.add(key)
                batch.spans.append(spans[key])
            if r["trace_id"] not in seen_traces:
                seen_traces.add(r["trace_id"])
                batch.traces.append(traces[r["trace_id"]])
        out.append(batch)
    return out


def _marks(columns: str, mark: str) -> str:
    return ",".join([mark] * (columns.count(",") + 1))


class BackgroundCheckpoint:
    """What the server does for its SQLite writer: PASSIVE checkpoints from a thread and connection of their
    own, woken after each commit (pokes during a checkpoint coalesce), so that commits never checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wake = threading.Event()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self.wake.wait()
                self.wake.clear()
                if self.stop:
                    return
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            db.close()

    def close(self) -> None:
        self.stop = True
        self.wake.set()
        self.thread.join(timeout=60)


def raw_sqlite(batches: list[Batch], path: Path, every_row: bool) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for statement in create_ddl(sqlite.dialect()):  # the store's tables, indexes and full-text table
        db.execute(statement)
    db.execute("PRAGMA wal_autocheckpoint=0")  # as the server's writer: no checkpoint on the commit path
    checkpoint = BackgroundCheckpoint(path)
    started = time.perf_counter()
    next_id = 1
    for batch in batches:
        db.execute("BEGIN IMMEDIATE")
        if every_row:
            db.execute(_INSERT_BATCH.format("?,?,?"), batch.batch)
        db.executemany(
            f"INSERT INTO records (id, {_RECORD_COLS}) VALUES (?,{_marks(_RECORD_COLS, '?')})",
            [(next_id + j, *row) for j, row in enumerate(batch.records)],
        )
        db.executemany(
            f"INSERT INTO {FULL_TEXT_TABLE} (rowid, body) VALUES (?, ?)",
            [(next_id + j, body) for j, body in enumerate(batch.bodies)],
        )
        if every_row:
            db.executemany(_INSERT_SPAN.format(_marks(_SPAN_COLS, "?")), batch.spans)
            db.executemany(_INSERT_TRACE.format(_marks(_TRACE_COLS, "?")), batch.traces)
        db.execute("COMMIT")
        checkpoint.wake.set()
        next_id += len(batch.records)
    elapsed = time.perf_counter() - started
    checkpoint.close()
    db.close()
    return sum(len(b.records) for b in batches) / elapsed


def raw_pg(batches: list[Batch], url: str, every_row: bool) -> float:
    import psycopg
    from sqlalchemy import make_url

    Store(url).close()
    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database) as conn:
        conn.execute("TRUNCATE records, spans, traces, ingest_batches")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for batch in batches:
                if every_row:
                    cur.execute(_INSERT_BATCH.format("%s,%s,%s"), batch.batch)
                cur.executemany(
                    f"INSERT INTO records ({_RECORD_COLS}, search) "
                    f"VALUES ({_marks(_RECORD_COLS, '%s')}, to_tsvector('simple', %s))",
                    [(*row, body) for row, body in zip(batch.records, batch.bodies, strict=True)],
                )
                if every_row:
                    cur.executemany(_INSERT_SPAN.format(_marks(_SPAN_COLS, "%s")), batch.spans)
                    cur.executemany(_INSERT_TRACE.format(_marks(_TRACE_COLS, "%s")), batch.traces)
                conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("TRUNCATE records, spans, traces, ingest_batches")
        conn.commit()
    return sum(len(b.records) for b in batches) / elapsed


def over_http(records: list[dict[str, Any]], db: str) -> float:
    bodies = [gzip.compress(jsonl(records[i : i + BATCH]), 1) for i in range(0, len(records), BATCH)]
    with server_process(db) as url, httpx.Client(timeout=120) as client:
        headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip"}
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            response = client.post(
                url + "/api/ingest", content=body, headers={**headers, "x-aitrace-batch-id": f"b{n}"}
            )
            response.raise_for_status()
        elapsed = time.perf_counter() - started
        assert client.get(url + "/api/health").json()["records"] == len(records)
    return len(records) / elapsed


# -- the same data as OTLP/protobuf ------------------------------------------------------------------------

_STANDARD = {
    "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq"
}


def _any_value(value: Any) -> Any:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    import json

    return AnyValue(string_value=json.dumps(value))


def otlp_bodies(records: list[dict[str, Any]]) -> tuple[list[bytes], int]:
    """The same spans as gzip'd ``ExportTraceServiceRequest`` bodies (one per 1,000 records' worth of spans):
    a span's fields become attributes, its log records events, its service the resource's ``service.name``."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import Status

    by_span: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        by_span.setdefault((r["trace_id"], r["span_id"]), []).append(r)
    bodies = []
    request = ExportTraceServiceRequest()
    scopes: dict[str, Any] = {}
    in_request = 0
    for (trace_id, span_id), recs in by_span.items():
        service = recs[0]["service"]
        if service not in scopes:
            rs = request.resource_spans.add()
            kv = rs.resource.attributes.add()
            kv.key, kv.value.string_value = "service.name", service
            scopes[service] = rs.scope_spans.add()
        span = scopes[service].spans.add()
        span.trace_id, span.span_id = bytes.fromhex(trace_id), bytes.fromhex(span_id)
        if recs[0].get("parent_span_id"):
            span.parent_span_id = bytes.fromhex(recs[0]["parent_span_id"])
        for r in recs:
            ns = parse_ts(r["timestamp"]) * 1000
            if r["event"] == "span_start":
                span.name, span.start_time_unix_nano = r["span_name"], ns
            elif r["event"] == "span_end":
                span.end_time_unix_nano = ns
                if r.get("status") == "error":
                    span.status.code = Status.STATUS_CODE_ERROR
            else:
                event = span.events.add()
                event.name, event.time_unix_nano = r["event"], ns
                for key, value in r.items():
                    if key not in _STANDARD:
                        kv = event.attributes.add()
                        kv.key = key
                        kv.value.CopyFrom(_any_value(value))
                continue
            for key, value in r.items():
                if key not in _STANDARD and key not in ("span_name", "duration_ms", "status"):
                    kv = span.attributes.add()
                    kv.key = key
                    kv.value.CopyFrom(_any_value(value))
        in_request += len(recs)
        if in_request >= BATCH:
            bodies.append(gzip.compress(request.SerializeToString(), 1))
            request, scopes, in_request = ExportTraceServiceRequest(), {}, 0
    if in_request:
        bodies.append(gzip.compress(request.SerializeToString(), 1))
    return bodies, len(by_span)


def over_otlp(bodies: list[bytes], spans: int, db: str) -> float:
    """Spans per second through ``POST /v1/traces`` (protobuf, gzip)."""
    with server_process(db) as url, httpx.Client(timeout=120) as client:
        headers = {"content-type": "application/x-protobuf", "content-encoding": "gzip"}
        started = time.perf_counter()
        for body in bodies:
            response = client.post(url + "/v1/traces", content=body, headers=headers)
            response.raise_for_status()
            assert not response.content, response.content  # no partial_success: every span stored
        elapsed = time.perf_counter() - started
    return spans / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()
    records = make_records(args.records)
    batches = batches_of(records)
    results = []
    otlp, span_count = otlp_bodies(records)
    runs: dict[str, list[float]] = {"every": [], "records": [], "http": [], "otlp": []}
    for _attempt in range(args.repeat):  # alternate, keep the best of each: this machine is noisy
        with tempfile.TemporaryDirectory() as tmp:
            runs["every"].append(raw_sqlite(batches, Path(tmp) / "every.db", every_row=True))
            runs["records"].append(raw_sqlite(batches, Path(tmp) / "records.db", every_row=False))
            runs["http"].append(over_http(records, f"sqlite:///{Path(tmp) / 'http.db'}"))
            runs["otlp"].append(over_otlp(otlp, span_count, f"sqlite:///{Path(tmp) / 'otlp.db'}"))
    results.append(_row("SQLite", *(max(runs[k]) for k in ("http", "every", "records"))))
    if not args.no_pg:
        with postgres(args.pg_url) as pg:
            if pg is None:
                print("PostgreSQL not installed: skipped")
            else:
                pg_runs: dict[str, list[float]] = {"every": [], "records": [], "http": []}
                for _attempt in range(args.repeat):
                    pg_runs["every"].append(raw_pg(batches, pg, every_row=True))
                    pg_runs["records"].append(raw_pg(batches, pg, every_row=False))
                    pg_runs["http"].append(over_http(records, pg))
                    _truncate(pg)
                results.append(_row("PostgreSQL", *(max(pg_runs[k]) for k in ("http", "every", "records"))))
    print(
        f"\ningest of {len(records):,} records in batches of {BATCH:,} (records/s, best of {args.repeat}; "
        "ratios: HTTP / raw)\n"
    )
    print(
        table(
            results,
            ("store", "HTTP /api/ingest", "raw, every row", "ratio", "target", "raw, records only", "ratio"),
        )
    )
    json_spans = max(runs["http"]) * span_count / len(records)
    print(f"\nthe same {span_count:,} spans into SQLite (spans/s, best of {args.repeat})\n")
    print(
        table(
            [(f"{json_spans:,.0f}", f"{max(runs['otlp']):,.0f}", f"{max(runs['otlp']) / json_spans:.2f}x")],
            ("/api/ingest (JSONL, gzip)", "/v1/traces (OTLP protobuf, gzip)", "ratio"),
        )
    )
    print(
        "\nSQLite: the server and both raw baselines checkpoint the WAL alike, from a background"
        " connection after each commit\n(automatic checkpoint off), so no commit pays a checkpoint."
        " PostgreSQL: the server loads by COPY + INSERT … SELECT,\nthe baseline by executemany."
    )


def _truncate(url: str) -> None:
    import psycopg
    from sqlalchemy import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database) as conn:
        conn.execute("TRUNCATE records, spans, traces, ingest_batches")


def _row(store: str, http: float, every: float, only: float) -> tuple[str, ...]:
    return (
        store,
        f"{http:,.0f}",
        f"{every:,.0f}",
        f"{http / every:.2f}x",
        "≥ 0.50x",
        f"{only:,.0f}",
        f"{http / only:.2f}x",
    )


if __name__ == "__main__":
    main()
