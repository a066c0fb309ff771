"""Write-to-visible latency of a long-running process: from the end of a span to its trace on the server.

    python benchmarks/bench_latency.py [--records 20] [--flush-interval 1.0]

A real ``aitrace serve`` (SQLite) runs in a subprocess; this process configures aitrace with the server as
target and, at random moments (so the writes land anywhere in the shipper's flush window), writes a span with
one log line, then polls ``GET /api/traces/{id}`` every 5 ms until the trace is there. Rows:
  no flush()            what a long-running application sees (the promise: within ``flush_interval``), with
                        writes close together and further apart
  flush() after write   the same records with an explicit flush: the server's own share (baseline)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import server_process

import aitrace_core
from aitrace_core import get_logger, span


def measure(
    url: str, n: int, flush_interval: float, pace: float, explicit_flush: bool, rng: random.Random
) -> list[float]:
    aitrace_core.configure(service_name="latency", target=url, flush_interval=flush_interval)
    log = get_logger("latency")
    out: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(n):
            time.sleep(rng.uniform(0, pace))  # the application's own pace, not a synchronisation
            with span(f"request {i}") as s:
                log.info("handled", i=i)
            written = time.monotonic()
            if explicit_flush:
                aitrace_core.flush()
            while client.get(f"/api/traces/{s.trace_id}").status_code != 200:
                if time.monotonic() - written > 30:
                    raise RuntimeError(f"record {i} not visible after 30 s")
                time.sleep(0.005)
            out.append(time.monotonic() - written)
    aitrace_core.shutdown()
    return out


def main(n: int, flush_interval: float) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, server_process(f"sqlite:///{tmp}/logs.db") as url:
        fi = flush_interval
        rows = [
            ("no flush(), writes 0-1× flush_interval apart", measure(url, n, fi, fi, False, rng)),
            ("no flush(), writes 0-3× flush_interval apart", measure(url, n, fi, 3 * fi, False, rng)),
            ("flush() after each write (baseline)", measure(url, n, fi, fi, True, rng)),
        ]
    print(f"{'case':46} {'median s':>9} {'p90 s':>7} {'max s':>7}")
    for name, values in rows:
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:46} {statistics.median(values):9.3f} {p90:7.3f} {max(values):7.3f}")
    version = sys.version.split()[0]
    print(f"({n} spans each; flush_interval {flush_interval} s; aitrace serve on SQLite; Python {version})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--flush-interval", type=float, default=1.0)
    args = parser.parse_args()
    main(args.records, args.flush_interval)
