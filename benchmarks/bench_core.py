"""Cost of ``@auto_span`` + one log line per call, next to baselines measured in the same run.

    python benchmarks/bench_core.py [--calls 20000] [--repeat 5]

Rows (µs per call, best of ``--repeat`` rounds; the machine is noisy, compare rows, not runs):
  bare call                       the function alone
  otel span + stdlib JSON log     ``tracer.start_as_current_span`` (SDK span, recorded) + ``logging`` with a
                                  JSON formatter (trace/span ids added) writing to /dev/null: what people
                                  write by hand
  otel span + 3 stdlib JSON lines the same, writing start / log / end lines as aitrace does
  otel id-only span + 3 JSON lines like for like: aitrace's spans carry ids only (its records hold the data,
                                  nothing exports SDK spans), so this baseline's span is id-only too (the
                                  SDK with its sampler off: a non-recording span with fresh ids), plus the
                                  same three lines. The ratio column divides by this row.
  aitrace @auto_span + log        ``@auto_span`` + ``get_logger().info`` into the shipper (file target),
                                  each round ending with ``flush()``: the background writing is counted
  aitrace span() + log            the context-manager form
  aitrace log only                one ``get_logger().info`` inside an open span
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import aitrace_core
from aitrace_core import auto_span, get_logger, span


def best_us(
    fn: Callable[[], None], calls: int, repeat: int, after: Callable[[], object] | None = None
) -> float:
    """µs per call, best of ``repeat`` rounds; ``after`` runs inside the timing (aitrace: flush to disk)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if after is not None:
            after()
        best = min(best, (time.perf_counter() - t0) / calls * 1e6)
    return best


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ctx = trace.get_current_span().get_span_context()
        return json.dumps(
            {
                "timestamp": self.formatTime(record),
                "level": record.levelname.lower(),
                "event": record.getMessage(),
                "logger": record.name,
                "trace_id": f"{ctx.trace_id:032x}",
                "span_id": f"{ctx.span_id:016x}",
                **{k: v for k, v in record.__dict__.items() if k == "order_id"},
            }
        )


def main(calls: int = 20_000, repeat: int = 5) -> list[tuple[str, float]]:
    tmp = Path(tempfile.mkdtemp(prefix="aitrace-bench-"))
    rows: list[tuple[str, float]] = []

    def work(x: int) -> int:
        return x + 1

    rows.append(("bare call", best_us(lambda: work(1), calls, repeat)))

    # Baseline: plain OTel SDK span + stdlib logging with a JSON formatter.
    tracer = TracerProvider().get_tracer("bench")
    std = logging.getLogger("bench.std")
    std.propagate = False
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives for the run
    handler.setFormatter(JsonFormatter())
    std.addHandler(handler)
    std.setLevel(logging.INFO)

    def otel_call() -> None:
        with tracer.start_as_current_span("work"):
            std.info("did work", extra={"order_id": 7})
            work(1)

    rows.append(("otel span + stdlib JSON log", best_us(otel_call, calls, repeat)))

    def otel_three_lines() -> None:  # like for like: aitrace writes span_start, the log line, span_end
        with tracer.start_as_current_span("work"):
            t0 = time.perf_counter_ns()
            std.info("span_start", extra={"order_id": 7})
            std.info("did work", extra={"order_id": 7})
            work(1)
            std.info("span_end %s", (time.perf_counter_ns() - t0) / 1e6)

    rows.append(("otel span + 3 stdlib JSON lines", best_us(otel_three_lines, calls, repeat)))

    # Like for like: an id-only span (what aitrace makes current), the same three lines.
    id_only = TracerProvider(sampler=ALWAYS_OFF).get_tracer("bench")

    def id_only_three_lines() -> None:
        with id_only.start_as_current_span("work"):
            t0 = time.perf_counter_ns()
            std.info("span_start", extra={"order_id": 7})
            std.info("did work", extra={"order_id": 7})
            work(1)
            std.info("span_end %s", (time.perf_counter_ns() - t0) / 1e6)

    assert id_only.start_span("probe").get_span_context().is_valid  # ids, not the invalid span
    rows.append(("otel id-only span + 3 JSON lines", best_us(id_only_three_lines, calls, repeat)))

    # aitrace, shipping to a file in the background.
    aitrace_core.configure(service_name="bench", target=tmp / "bench.jsonl", queue_size=10_000_000,
                           queue_max_bytes=4 * 1024**3)
    log = get_logger("bench")

    @auto_span("work")
    def traced(x: int) -> int:
        log.info("did work", order_id=7)
        return x + 1

    aitrace_core.flush(timeout=60)
    flush = aitrace_core.flush  # the rows below include the background thread's work: records on disk
    rows.append(("aitrace @auto_span + log", best_us(lambda: traced(1), calls, repeat, flush)))

    def ctx_call() -> None:
        with span("work"):
            log.info("did work", order_id=7)
            work(1)

    rows.append(("aitrace span() + log", best_us(ctx_call, calls, repeat, flush)))

    with span("outer"):
        one_log = best_us(lambda: log.info("did work", order_id=7), calls, repeat, flush)
        rows.append(("aitrace log only", one_log))

    shipper = aitrace_core.current_shipper()
    aitrace_core.flush(timeout=60)
    stats = shipper.stats() if shipper else {}
    aitrace_core.shutdown()

    base = dict(rows)["otel id-only span + 3 JSON lines"]
    print(f"{'case':32} {'µs/call':>9} {'× id-only+3':>12}")
    for name, us in rows:
        print(f"{name:32} {us:9.2f} {us / base:12.2f}")
    print("(× id-only+3: the same work as aitrace (an id-only span, three JSON lines) done by hand; the two")
    print(" 'otel span' rows record a full SDK span, which aitrace does not, and are shown for reference)")
    print(f"(calls={calls}, best of {repeat}; records written={stats.get('written')}, "
          f"dropped={stats.get('dropped_queue_full')}; Python {sys.version.split()[0]})")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    main(args.calls, args.repeat)
