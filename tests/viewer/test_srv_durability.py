"""Crash consistency and concurrent writers against a real server process."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from conftest import wait_for


def _batch(trace_id: str, n: int, start_seq: int = 0, span: str = "00f067aa0ba902b7") -> list[dict[str, Any]]:
    return [
        {
            "timestamp": f"2026-11-24T12:00:00.{start_seq + i:06d}Z",
            "level": "info",
            "event": f"step {start_seq + i}",
            "logger": "load",
            "service": "load",
            "trace_id": trace_id,
            "span_id": span,
            "seq": start_seq + i,
            "payload": "x" * 200,
        }
        for i in range(n)
    ]


def test_kill_9_during_ingest_keeps_the_database_sound_and_acknowledged_batches(
    tmp_path: Any, server_factory: Any
) -> None:
    path = tmp_path / "logs.db"
    server = server_factory(f"sqlite:///{path}")
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                trace_id = f"{worker + 1:08x}{i + 1:024x}"
                try:
                    response = http.post(
                        server.url + "/api/ingest",
                        json=_batch(trace_id, 200),
                        headers={"x-aitrace-batch-id": trace_id},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(trace_id)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(acknowledged) >= 40, 60, "40 acknowledged batches")
        server.kill9()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.execute("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')")
        counts = dict(db.execute("SELECT trace_id, count(*) FROM records GROUP BY trace_id").fetchall())
        summaries = dict(db.execute("SELECT trace_id, record_count FROM traces").fetchall())
    for trace_id in acknowledged:
        assert counts.get(trace_id) == 200, trace_id
        assert summaries.get(trace_id) == 200, trace_id
    assert set(counts) == set(summaries)  # records and summaries were committed together
    assert all(n == 200 for n in counts.values())  # no half batch
    restarted = server_factory(f"sqlite:///{path}")
    assert httpx.get(restarted.url + "/api/health").json()["records"] == 200 * len(counts)


def test_eight_clients_at_once_lose_nothing(db_url: str, server_factory: Any) -> None:
    server = server_factory(db_url)
    # on PostgreSQL two server processes share the database, as several workers would
    servers = [server, server_factory(db_url)] if db_url.startswith("postgresql") else [server]
    traces = [f"{n + 1:032x}" for n in range(4)]  # every client writes into the same four traces
    per_client, batches = 100, 12
    statuses: list[int] = []

    def client(worker: int) -> None:
        with httpx.Client(timeout=60) as http:
            for b in range(batches):
                records = []
                for t, trace_id in enumerate(traces):
                    records += _batch(
                        trace_id,
                        per_client // len(traces),
                        start_seq=(worker * batches + b) * 25,
                        span=f"{worker + 1:08x}{t + 1:08x}",
                    )
                target = servers[(worker + b) % len(servers)]
                response = http.post(target.url + "/api/ingest", json=records)
                statuses.append(response.status_code)
                assert response.status_code == 200, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    assert statuses == [200] * (8 * batches)
    total = 8 * batches * per_client
    assert httpx.get(server.url + "/api/health").json()["records"] == total
    listed = httpx.get(server.url + "/api/traces").json()["traces"]
    assert sorted(t["trace_id"] for t in listed) == traces
    for summary in listed:
        assert summary["record_count"] == total // len(traces)
        assert summary["span_count"] == 8
    for each in servers:
        assert "database is locked" not in each.output()
