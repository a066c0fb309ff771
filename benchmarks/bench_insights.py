"""The insights API at scale: ``/api/insights`` over 24 h, 7 d and 30 d, filtered or not, N records stored.

    python benchmarks/bench_insights.py --records 1000000 [--pg-url postgresql://…] [--no-pg]

Fills a database fast by bulk inserts straight into the store's tables (records, spans, traces: the rows the
ingest path would write, the summaries already summed; no full-text rows, which insights never read), made
by the store itself (``Store(url)`` runs the migrations, so the indexes are the real ones), then times the
HTTP API of a real server process (median of 5). Baseline in the same run: the trace list's first page
(``/api/traces``, 50 rows), the cheapest page of the viewer. Traces have 10 spans of 3 records each (a root
graph, 3 nodes, 3 LLM calls on 5 models, 3 tools of 8), spread evenly over the last 30 days.

Target: every insights answer well under 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from _common import median_ms, postgres, server_process, table
from aitrace_viewer.store import Store
from aitrace_viewer.store._tables import records as records_table
from aitrace_viewer.store._tables import spans as spans_table
from aitrace_viewer.store._tables import traces as traces_table

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "llama-3.3-70b-versatile"]
NODES = ["agent", "tools", "summarize"]
TOOLS = ["get_weather", "search", "lookup_order", "refund", "send_email", "calc", "translate", "fetch_url"]
SPANS_PER_TRACE = 10
RECORDS_PER_SPAN = 3
DAY_US = 86_400_000_000


def _rows(n_traces: int, now_us: int) -> Iterator[tuple[list[dict[str, Any]], ...]]:
    """(records, spans, traces) rows, a thousand traces at a time."""
    rng = random.Random(7)
    step = 30 * DAY_US // n_traces
    recs: list[dict[str, Any]] = []
    spans: list[dict[str, Any]] = []
    traces: list[dict[str, Any]] = []
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        service = f"svc-{t % 5}"
        t0 = now_us - 30 * DAY_US + t * step
        kinds = ["graph"] + ["node"] * 3 + ["llm"] * 3 + ["tool"] * 3
        names = ["LangGraph", *NODES, *["ChatModel"] * 3, *rng.sample(TOOLS, 3)]
        tot_in = tot_out = errors = 0
        cost = 0.0
        root_ms = 0.0
        model0 = None
        for s in range(SPANS_PER_TRACE):
            sid = f"{s + 1:016x}"
            kind = kinds[s]
            ms = rng.lognormvariate(5, 1) if s else rng.lognormvariate(7, 0.6)
            status = "error" if rng.random() < 0.02 else "ok"
            row: dict[str, Any] = {
                "trace_id": tid,
                "span_id": sid,
                "parent_span_id": None if s == 0 else f"{1:016x}",
                "name": names[s],
                "kind": kind,
                "service": service,
                "start_us": t0 + s * 1000,
                "last_us": t0 + s * 1000 + int(ms * 1000),
                "end_us": t0 + s * 1000 + int(ms * 1000),
                "duration_ms": ms,
                "status": status,
                "record_count": RECORDS_PER_SPAN,
                "has_start": 1,
                "has_end": 1,
                "incomplete": 0,
                "input_tokens": None,
                "output_tokens": None,
                "total_tokens": None,
                "cost_usd": None,
                "model": None,
                "thread_id": f"thread-{t // 4}" if s == 0 else None,
            }
            if kind == "llm":
                model = rng.choice(MODELS)
                model0 = min(model0 or model, model)
                tin, tout = rng.randint(100, 4000), rng.randint(10, 800)
                price = (tin * 2.5 + tout * 10) / 1e6
                row.update(input_tokens=tin, output_tokens=tout, total_tokens=tin + tout, cost_usd=price)
                row["model"] = model
                tot_in, tot_out, cost = tot_in + tin, tot_out + tout, cost + price
            if s == 0:
                root_ms = ms
            errors += status == "error"
            spans.append(row)
            for r in range(RECORDS_PER_SPAN):
                event = ("span_start", "log", "span_end")[r]
                recs.append(
                    {
                        "trace_id": tid,
                        "span_id": sid,
                        "parent_span_id": row["parent_span_id"],
                        "ts_us": row["start_us"] + r,
                        "seq": s * RECORDS_PER_SPAN + r,
                        "level": "info",
                        "logger": "bench",
                        "event": event,
                        "service": service,
                        "raw": json.dumps({"event": event, "span_name": names[s], "n": t}),
                    }
                )
        traces.append(
            {
                "trace_id": tid,
                "root_span_id": f"{1:016x}",
                "root_name": "LangGraph",
                "root_kind": "graph",
                "service": service,
                "start_us": t0,
                "end_us": t0 + int(root_ms * 1000),
                "last_us": t0 + int(root_ms * 1000),
                "duration_ms": root_ms,
                "span_count": SPANS_PER_TRACE,
                "record_count": SPANS_PER_TRACE * RECORDS_PER_SPAN,
                "error_count": errors,
                "status": spans[-SPANS_PER_TRACE]["status"],
                "input_tokens": tot_in,
                "output_tokens": tot_out,
                "total_tokens": tot_in + tot_out,
                "cost_usd": cost,
                "model": model0,
                "thread_id": f"thread-{t // 4}",
                "incomplete": 0,
                "updated_us": t0,
            }
        )
        if len(traces) == 1000:
            yield recs, spans, traces
            recs, spans, traces = [], [], []
    if traces:
        yield recs, spans, traces


def fill(store: Store, n_records: int) -> int:
    n_traces = max(1, n_records // (SPANS_PER_TRACE * RECORDS_PER_SPAN))
    started = time.perf_counter()
    total = 0
    now_us = time.time_ns() // 1000
    for recs, spans, traces in _rows(n_traces, now_us):
        with store.writer.begin() as conn:
            conn.execute(records_table.insert(), recs)
            conn.execute(spans_table.insert(), spans)
            conn.execute(traces_table.insert(), traces)
        total += len(recs)
        if total % 200_000 < len(recs):
            print(f"  {total:,} records ({total / (time.perf_counter() - started):,.0f}/s)", flush=True)
    store.analyze()
    return total


def measure(name: str, url: str, n_records: int) -> list[tuple[Any, ...]]:
    print(f"{name}: storing {n_records:,} records …", flush=True)
    store = Store(url)
    try:
        stored = fill(store, n_records)
        with server_process(url) as base, httpx.Client(base_url=base, timeout=120) as http:
            assert http.get("/api/health").json()["records"] == stored

            def get(path: str, **params: Any) -> Callable[[], Any]:
                def run() -> Any:
                    response = http.get(path, params=params)
                    response.raise_for_status()
                    return response.content

                return run

            baseline = median_ms(get("/api/traces"))
            cases = [
                ("insights, 24 h", {"range": "24h"}),
                ("insights, 7 d", {"range": "7d"}),
                ("insights, 30 d (every trace)", {"range": "30d"}),
                ("insights, 30 d, service=svc-3", {"range": "30d", "service": "svc-3"}),
                ("insights, 30 d, model=gpt-4o", {"range": "30d", "model": "gpt-4o"}),
                ("threads index, first page", None),
            ]
            first = (name, "baseline: first page of traces (50)", f"{baseline:.1f}", "")
            rows: list[tuple[Any, ...]] = [first]
            for what, params in cases:
                fn = get("/api/threads") if params is None else get("/api/insights", **params)
                ms = median_ms(fn)
                rows.append((name, what, f"{ms:.1f}", f"{ms / baseline:,.1f}×"))
            return rows
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            rows += measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.records)
    if not args.no_pg:
        with postgres(args.pg_url) as pg:
            if pg is None:
                print("PostgreSQL not installed: skipped")
            else:
                rows += measure("PostgreSQL", pg, args.records)
    print(f"\ninsights with {args.records:,} records stored (ms, median of 5; target: well under 1,000 ms)\n")
    print(table(rows, ("store", "query", "ms", "× baseline")))


if __name__ == "__main__":
    main()
