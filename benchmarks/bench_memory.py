"""Memory with the server down: 1,000,000 records through aitrace, RSS stays within the queue bound.

    python benchmarks/bench_memory.py [--records 1000000] [--queue 10000]

The target is an ingest URL on a closed port (connection refused), so nothing is ever delivered. The
shipper retries, then spills batches to a local .jsonl (deleted afterwards) and drops what does not fit in
its queue. The process's RSS is printed before and after, next to the bound (queue records × record size),
and next to a baseline measured in the same run: all the records kept in a plain list, at full size (what an
unbounded buffer would cost).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import aitrace_core
from aitrace_core import get_logger, span


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(n: int = 1_000_000, queue: int = 10_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="aitrace-bench-mem-"))
    try:
        aitrace_core.configure(
            service_name="mem", target=f"http://127.0.0.1:{closed_port()}/api/ingest", queue_size=queue,
            spill_dir=str(tmp), exit_timeout=2, flush_interval=0.2,
        )
        log = get_logger("mem")
        shipper = aitrace_core.current_shipper()
        assert shipper is not None
        # warm up: imports, first batch, first spill
        with span("warmup"):
            for i in range(2 * queue):
                log.info("warm", i=i)
        aitrace_core.flush(timeout=30)
        warm_stats = shipper.stats()
        gc.collect()
        before = rss_mb()
        t0 = time.perf_counter()
        sizes = 0
        for i in range(n // 100):
            with span("request", request_id=i):
                for j in range(98):
                    log.info("charging card", amount="19.90", user_id=i, line=j)
        elapsed = time.perf_counter() - t0
        peak_during = hwm_mb()
        stats = shipper.stats()
        t1 = time.perf_counter()
        aitrace_core.shutdown(timeout=2)
        shutdown_s = time.perf_counter() - t1
        gc.collect()
        after = rss_mb()
        spilled_bytes = sum(f.stat().st_size for f in tmp.rglob("*.jsonl"))
        record_size = spilled_bytes / max(1, stats["spilled"] + stats["queued"])
        bound_mb = queue * record_size / 2**20

        # baseline: an unbounded in-memory buffer holding every record the app wrote, at their encoded size
        gc.collect()
        base0 = rss_mb()
        keep = [b"x" * int(record_size) for _ in range(n)]
        base_mb = rss_mb() - base0
        del keep
        sizes = n
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'figure':52} {'value':>12}")
    rows = [
        ("records written by the app", f"{sizes:,}"),
        ("app time per record (µs, span+log path)", f"{elapsed / n * 1e6:.1f}"),
        ("RSS before (MB)", f"{before:.1f}"),
        (f"RSS after {n:,} records (MB)", f"{after:.1f}"),
        ("RSS growth (MB)", f"{after - before:.1f}"),
        ("peak RSS of the process (MB)", f"{peak_during:.1f}"),
        ("queue bound: records", f"{queue:,}"),
        ("queue bound: records × record size (MB)", f"{bound_mb:.1f}"),
        (f"baseline: unbounded list of the {n:,} records (MB)", f"{base_mb:.1f}"),
        ("spilled to disk", f"{stats['spilled']:,}"),
        ("dropped (queue full), warm-up", f"{warm_stats['dropped_queue_full']:,}"),
        ("dropped (queue full), total", f"{stats['dropped_queue_full']:,}"),
        ("shutdown with server down (s)", f"{shutdown_s:.2f}"),
    ]
    for name, value in rows:
        print(f"{name:52} {value:>12}")
    print(f"(record ≈ {record_size:.0f} bytes; Python {sys.version.split()[0]})")
    print("(the baseline keeps all the records the app wrote, measured at that full size in this process)")
    ok = after - before <= bound_mb + 20
    print("RSS growth within queue bound + 20 MB allocator slack:", "yes" if ok else "NO")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queue", type=int, default=10_000)
    args = parser.parse_args()
    main(args.records, args.queue)
