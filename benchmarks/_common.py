"""Shared by the benchmark scripts: synthetic records, a server process, a throwaway PostgreSQL."""

from __future__ import annotations

import json
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "viewer"))
from pg_server import pg_bin, throwaway_postgres

WORDS = [
    "checkout",
    "invoice",
    "weather",
    "lisbon",
    "oslo",
    "refund",
    "shipping",
    "ticket",
    "agent",
    "router",
    "tool",
    "model",
    "answer",
    "question",
    "retry",
    "timeout",
    "card",
    "stock",
    "order",
    "user",
    "cart",
    "price",
    "graph",
    "node",
    "summary",
    "search",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def trace_records(rng: random.Random, trace_no: int, spans: int, t0_us: int) -> list[dict[str, Any]]:
    """One trace: a root and ``spans - 1`` children (every 5th an LLM call), 3 records a span."""
    trace_id = f"{trace_no + 1:032x}"
    out: list[dict[str, Any]] = []
    base = {"level": "info", "logger": "bench", "service": f"svc-{trace_no % 5}", "trace_id": trace_id}
    seq = 0
    t = t0_us
    root = f"{1:016x}"
    for s in range(spans):
        span_id = f"{s + 1:016x}"
        parent = {} if s == 0 else {"parent_span_id": root}
        llm = s % 5 == 1
        kind = "graph" if s == 0 else ("chat_model" if llm else "tool")
        name = "LangGraph" if s == 0 else ("ChatOpenAI" if llm else rng.choice(WORDS))
        start = {
            **base,
            **parent,
            "timestamp": _ts(t),
            "event": "span_start",
            "span_id": span_id,
            "seq": seq,
            "span_name": name,
            "span_kind": kind,
            "input": {"text": " ".join(rng.choices(WORDS, k=12))},
        }
        log = {
            **base,
            **parent,
            "timestamp": _ts(t + 5),
            "event": f"{name} working",
            "span_id": span_id,
            "seq": seq + 1,
            "step": s,
            "note": " ".join(rng.choices(WORDS, k=6)),
        }
        end = {
            **base,
            **parent,
            "timestamp": _ts(t + 900),
            "event": "span_end",
            "span_id": span_id,
            "seq": seq + 2,
            "span_name": name,
            "span_kind": kind,
            "duration_ms": 0.9,
            "status": "error" if rng.random() < 0.01 else "ok",
            "output": {"text": rng.choice(WORDS)},
        }
        if llm:
            end.update(
                {
                    "gen_ai.response.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": rng.randint(10, 500),
                    "gen_ai.usage.output_tokens": rng.randint(5, 200),
                    "gen_ai.usage.cost_usd": 0.0001,
                }
            )
        if s == 0:
            out.append(start)
            out.append(log)
            root_end = end
        else:
            out += [start, log, end]
        seq += 3
        t += 1000
    root_end["timestamp"] = _ts(t)
    root_end["duration_ms"] = (t - t0_us) / 1000
    out.append(root_end)
    return out


def _ts(us: int) -> str:
    seconds, micro = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micro:06d}Z"


def make_records(
    n: int, spans_per_trace: int = 10, seed: int = 1, first_trace: int = 0
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    trace_no = first_trace
    t0 = int((time.time() - 86400) * 1_000_000)
    while len(out) < n:
        out += trace_records(rng, trace_no, spans_per_trace, t0 + trace_no * 20_000)
        trace_no += 1
    return out[:n]


@contextmanager
def server_process(db: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitrace_viewer", "serve", "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """``url`` as given, else a throwaway server (None when PostgreSQL is not installed)."""
    if url:
        yield url
        return
    bindir = pg_bin()
    if bindir is None:
        yield None
        return
    import psycopg

    with throwaway_postgres(bindir, "shared_buffers=256MB") as port:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute("CREATE DATABASE bench")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def median_ms(fn: Callable[[], Any], runs: int = 5) -> float:
    """The median of ``runs`` timed calls of ``fn`` (after one warm-up call), in milliseconds."""
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def table(rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
