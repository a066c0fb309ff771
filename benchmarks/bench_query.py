"""Queries at scale: first page, a filtered page, a text search, a 200-span and a 10,000-span trace, DB size.

    python benchmarks/bench_query.py --records 1000000 [--pg-url postgresql://…] [--no-pg]

Fills a database through the store (the same code path as ingest, minus HTTP), then times the HTTP API of a
real server process (median of 5). Baselines in the same run:

- "bare SQL": the same work without the server: the list pages as one SELECT on the same ``traces`` summary
  table the API reads (same filter, order and limit); a trace as the bare SELECT of its stored records.
- "no summaries": the first page computed the way a store without summary tables must (GROUP BY over all
  records), to show what the summaries save; it is not the same work.

Targets: trace list < 50 ms, 10,000-span tree < 500 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
from _common import median_ms, postgres, server_process, table, trace_records
from aitrace_viewer.store import Store

BIG, MEDIUM = 10_000, 200
encode = msgspec.json.Encoder().encode


def traces(n_records: int) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(2)
    t0 = int((time.time() - 3 * 86400) * 1_000_000)
    made = 0
    number = 0
    special = {5: MEDIUM, 7: BIG}
    while made < n_records:
        spans = special.get(number, 10)
        records = trace_records(rng, number, spans, t0 + number * 5_000)
        made += len(records)
        number += 1
        yield records


def fill(store: Store, n_records: int) -> int:
    batch: list[dict[str, Any]] = []
    total = 0
    started = time.perf_counter()
    for records in traces(n_records):
        batch += records
        if len(batch) >= 5000:
            store.ingest(batch, [encode(r).decode() for r in batch])
            total += len(batch)
            batch = []
            if total % 100_000 < 5000:
                print(
                    f"  {total:,} records stored ({total / (time.perf_counter() - started):,.0f}/s)",
                    flush=True,
                )
    if batch:
        store.ingest(batch, [encode(r).decode() for r in batch])
        total += len(batch)
    store.analyze()  # as `aitrace import` does after a bulk load (else PostgreSQL plans blind)
    return total


def db_size(store: Store, url: str) -> int:
    if store.pg:
        with store.reader.connect() as conn:
            from sqlalchemy import text

            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def naive_first_page(store: Store) -> Callable[[], Any]:
    from sqlalchemy import text

    sql = text(
        "SELECT trace_id, min(ts_us) AS start, max(ts_us), count(*), "
        "sum(CASE WHEN level = 'error' THEN 1 ELSE 0 END) FROM records GROUP BY trace_id "
        "ORDER BY start DESC LIMIT 50"
    )

    def run() -> Any:
        with store.reader.connect() as conn:
            return conn.execute(sql).all()

    return run


def bare_page(store: Store, **filters: str) -> Callable[[], Any]:
    """The API's list query done by hand: one page of the summary table, newest first."""
    from sqlalchemy import text

    where = "".join(f" AND {column} = :{column}" for column in filters if column != "errors")
    if filters.get("errors") == "true":
        where += " AND error_count > 0"
    params = {k: v for k, v in filters.items() if k != "errors"}
    sql = text(
        f"SELECT * FROM traces WHERE start_us IS NOT NULL{where} "
        "ORDER BY start_us DESC, trace_id DESC LIMIT 51"
    )

    def run() -> Any:
        with store.reader.connect() as conn:
            return conn.execute(sql, params).all()

    return run


def bare_records(store: Store, trace_id: str) -> Callable[[], Any]:
    from sqlalchemy import text

    sql = text("SELECT raw FROM records WHERE trace_id = :t ORDER BY ts_us, seq, id")

    def run() -> Any:
        with store.reader.connect() as conn:
            return conn.execute(sql, {"t": trace_id}).scalars().all()

    return run


LIST_QUERIES: list[tuple[str, str, dict[str, str], str]] = [
    ("page sorted by cost (50)", "/api/traces", {"sort": "cost"}, "< 50 ms"),
    ("page sorted by duration, ascending", "/api/traces", {"sort": "duration", "order": "asc"}, "< 50 ms"),
    ("filtered page (model=mini, a part of it)", "/api/traces", {"model": "mini"}, ""),
    ("filtered page (a tag no trace has)", "/api/traces", {"tag": "nightly"}, ""),
    ("services and models (/api/facets)", "/api/facets", {}, ""),
]


def measure(name: str, url: str, n_records: int) -> list[tuple[Any, ...]]:
    print(f"{name}: storing {n_records:,} records …", flush=True)
    store = Store(url)
    try:
        stored = fill(store, n_records)
        size = db_size(store, url)
        big_id, medium_id = f"{8:032x}", f"{6:032x}"
        with server_process(url) as base, httpx.Client(base_url=base, timeout=120) as http:

            def get(path: str, **params: Any) -> Callable[[], Any]:
                def run() -> Any:
                    response = http.get(path, params=params)
                    response.raise_for_status()
                    return response.content

                return run

            assert http.get("/api/health").json()["records"] == stored
            big = http.get(f"/api/traces/{big_id}").json()
            assert big["summary"]["span_count"] == BIG, big["summary"]
            filtered = {"service": "svc-3", "errors": "true"}
            rows: list[tuple[str, float, float | None, float | None, str]] = [
                (
                    "first page of traces (50)",
                    median_ms(get("/api/traces")),
                    median_ms(bare_page(store)),
                    median_ms(naive_first_page(store)),
                    "< 50 ms",
                ),
                (
                    "filtered page (service + errors)",
                    median_ms(get("/api/traces", **filtered)),
                    median_ms(bare_page(store, **filtered)),
                    None,
                    "< 50 ms",
                ),
                ("filtered page (text q=lisbon)", median_ms(get("/api/traces", q="lisbon")), None, None, ""),
                # the list's other sorts and filters (each sort walks its own index; beside the first page)
                *(
                    (what, median_ms(get(path, **params)), None, None, target)
                    for what, path, params, target in LIST_QUERIES
                ),
                ("text search (50 hits)", median_ms(get("/api/search", q="refund")), None, None, ""),
                (
                    f"trace detail, {MEDIUM} spans",
                    median_ms(get(f"/api/traces/{medium_id}")),
                    median_ms(bare_records(store, medium_id)),
                    None,
                    "",
                ),
                (
                    f"trace detail, {BIG:,} spans",
                    median_ms(get(f"/api/traces/{big_id}")),
                    median_ms(bare_records(store, big_id)),
                    None,
                    "< 500 ms",
                ),
            ]
            if http.get(f"/api/traces/{big_id}/tree").status_code == 200:  # (servers before it: skipped)
                rows.append(
                    (
                        f"trace tree (no records), {BIG:,} spans",
                        median_ms(get(f"/api/traces/{big_id}/tree")),
                        median_ms(bare_records(store, big_id)),
                        None,
                        "",
                    )
                )
                one = http.get(f"/api/traces/{big_id}/tree").json()["spans"][BIG // 2][0]
                rows.append(
                    (
                        "one span's records (of the 10,000)",
                        median_ms(get(f"/api/traces/{big_id}/spans/{one}/records")),
                        None,
                        None,
                        "",
                    )
                )

        def ms(value: float | None) -> str:
            return "—" if value is None else f"{value:.1f}"

        out = [(name, what, ms(api), ms(bare), ms(naive), target) for what, api, bare, naive, target in rows]
        per_million = f"{size / stored * 1e6 / 2**20:,.0f} MiB"
        out.append((name, "database size per 1M records", per_million, "—", "—", ""))
        return out
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.records)
    if not args.no_pg:
        with postgres(args.pg_url) as pg:
            if pg is None:
                print("PostgreSQL not installed: skipped")
            else:
                rows += measure("PostgreSQL", pg, args.records)
    print(f"\nqueries with {args.records:,} records stored (ms, median of 5)\n")
    print(table(rows, ("store", "query", "API", "bare SQL", "no summaries", "target")))
    print(
        "\nbare SQL: the same work without the server (list pages: one SELECT on the same traces summary"
        " table, same\nfilter, order and limit; a trace: the SELECT of its stored records, without building"
        " the tree). no summaries:\nthe first page by GROUP BY over every record, as a store without summary"
        " tables must: what the summaries save."
    )


if __name__ == "__main__":
    main()
