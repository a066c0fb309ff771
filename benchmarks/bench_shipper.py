"""Shipper throughput and application-thread cost, next to baselines measured in the same run.

    python benchmarks/bench_shipper.py [--records 200000]

For each target: the application thread's cost per ``write()`` (µs), and records/s delivered end to end
(from the first write until ``flush()`` returns: everything on disk / acknowledged by the server). The
shipper runs twice: with a queue raised to hold the whole burst (it then delivers every record, as the
baselines do) and with its default bounds (what an application gets: a burst faster than the target drops
and counts). Baselines do
the same work by hand in the application thread: buffered ``file.write`` of each line, and gzip'd POSTs of
the same batches with ``http.client`` over one connection. The HTTP sink runs in a subprocess (a stdlib
``ThreadingHTTPServer`` that gunzips and counts), so it does not share the GIL with the shipper.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aitrace_core import Shipper

SINK = r"""
import gzip, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms delayed-ACK stall
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        n = body.count(b"\n")
        out = b'{"accepted":%d}' % n
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""


def make_lines(n: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "timestamp": "2026-11-24T12:00:00.000001Z", "level": "info", "event": "charging card",
                "logger": "shop", "service": "bench",
                "trace_id": f"{i // 50:032x}", "span_id": f"{i % 50 + 1:016x}",
                "seq": i, "amount": "19.90", "user_id": i % 977,
            },
            separators=(",", ":"),
        ).encode()
        for i in range(n)
    ]


def run_shipper(
    target: str, lines: list[bytes], *, unbounded: bool, **opts: object
) -> tuple[float, float, dict[str, int]]:
    """App µs per write, records/s delivered (written or sent) end to end, the shipper's counters.

    ``unbounded``: a queue that holds every line (as the baselines deliver every line); otherwise the
    default bounds (10,000 records, 64 MiB), where a burst faster than the target drops and counts."""
    bounds = {"max_queue": len(lines) + 1, "max_queue_bytes": 2**34} if unbounded else {}
    shipper = Shipper(target, **bounds, **opts)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    for line in lines:
        shipper.write(line)
    t_app = time.perf_counter() - t0
    ok = shipper.flush(timeout=300)
    total = time.perf_counter() - t0
    stats = shipper.stats()
    shipper.shutdown()
    assert ok, stats
    delivered = stats["written"] + stats["sent"]
    assert delivered + stats["dropped_queue_full"] == len(lines), stats
    return t_app / len(lines) * 1e6, delivered / total, stats


def baseline_file(path: Path, lines: list[bytes]) -> tuple[float, float]:
    t0 = time.perf_counter()
    with open(path, "ab") as fh:
        for line in lines:
            fh.write(line + b"\n")
    total = time.perf_counter() - t0
    return total / len(lines) * 1e6, len(lines) / total


def baseline_http(port: int, lines: list[bytes], batch: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    for i in range(0, len(lines), batch):
        body = gzip.compress(b"\n".join(lines[i : i + batch]) + b"\n", compresslevel=1)
        conn.request("POST", "/api/ingest", body=body, headers={"Content-Encoding": "gzip"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    total = time.perf_counter() - t0
    conn.close()
    return total / len(lines) * 1e6, len(lines) / total


def main(n: int = 200_000) -> None:
    lines = make_lines(n)
    tmp = Path(tempfile.mkdtemp(prefix="aitrace-bench-"))
    rows: list[tuple[str, float, float, int]] = []

    b_us, b_rate = baseline_file(tmp / "baseline.jsonl", lines)
    rows.append(("file: baseline (app thread writes)", b_us, b_rate, 0))
    us, rate, stats = run_shipper(str(tmp / "shipper.jsonl"), lines, unbounded=True)
    assert stats["written"] == n
    rows.append(("file: aitrace Shipper, queue n+1", us, rate, 0))
    us, rate, stats = run_shipper(str(tmp / "shipper-default.jsonl"), lines, unbounded=False)
    rows.append(("file: aitrace Shipper, default queue", us, rate, stats["dropped_queue_full"]))

    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        b_us, b_rate = baseline_http(port, lines, 512)
        rows.append(("http: baseline (app thread POSTs)", b_us, b_rate, 0))
        url = f"http://127.0.0.1:{port}/api/ingest"
        us, rate, stats = run_shipper(url, lines, unbounded=True, spill_dir=tmp)
        assert stats["sent"] == n, stats
        rows.append(("http: aitrace Shipper, queue n+1", us, rate, 0))
        us, rate, stats = run_shipper(url, lines, unbounded=False, spill_dir=tmp)
        rows.append(("http: aitrace Shipper, default queue", us, rate, stats["dropped_queue_full"]))
    finally:
        sink.terminate()
        sink.wait(10)

    print(f"{'case':38} {'app µs/record':>14} {'delivered/s':>12} {'dropped':>9}")
    for name, us_, rate_, dropped in rows:
        print(f"{name:38} {us_:14.2f} {rate_:12,.0f} {dropped:9,}")
    size = sum(len(x) + 1 for x in lines) / n
    python = sys.version.split()[0]
    print(f"({n:,} records of {size:.0f} bytes written in one burst; batch 512; Python {python})")
    print(
        "(The baselines deliver every record. 'queue n+1' raises the shipper's queue to hold the whole burst,"
        " so it\n delivers every record too: the like-for-like rows. 'default queue' keeps the default bounds"
        " (10,000 records,\n 64 MiB): what an application gets; records a burst brings faster than the target"
        " takes are dropped and counted,\n and delivered/s counts only the records delivered.)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    main(parser.parse_args().records)
