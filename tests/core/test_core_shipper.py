"""The shipper against a real HTTP server, files, stdout and a server that is down."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

import aitrace_core
from aitrace_core import BufferedLogger, Shipper, auto_span, get_logger, span
from aitrace_core.testing import CapturedRecords

from .conftest import Sink


def _line(i: int, trace: str = "a" * 32, **extra: object) -> bytes:
    rec = {
        "timestamp": "2026-11-24T12:00:00.000001Z",
        "level": "info",
        "event": f"record {i}",
        "logger": "test",
        "service": "test",
        "trace_id": trace,
        "span_id": "b" * 16,
        "seq": i,
        **extra,
    }
    return json.dumps(rec).encode()


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_every_record_arrives_once_and_in_order_per_trace(sink: Sink) -> None:
    aitrace_core.configure(service_name="shop", target=sink.url, batch_size=25, flush_interval=0.05)
    log = get_logger("shop")

    @auto_span
    def step(worker: int, i: int) -> None:
        log.info("step", worker=worker, i=i)

    def work(worker: int) -> None:
        with span("job", worker=worker):
            for i in range(40):
                step(worker, i)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert aitrace_core.flush(timeout=20)

    received = sink.accepted()
    received.validate()
    assert len(received) == 4 * (2 + 40 * 3)
    assert len({r["seq"] for r in received}) == len(received)  # nothing twice
    by_trace: dict[str, list[int]] = defaultdict(list)
    for rec in received:
        by_trace[str(rec["trace_id"])].append(int(rec["seq"]))  # type: ignore[call-overload]
    assert len(by_trace) == 4
    for seqs in by_trace.values():
        assert seqs == sorted(seqs)
    assert all(req.headers["Content-Encoding"] == "gzip" for req in sink.requests)
    assert all(req.headers["X-Aitrace-Schema"] == "2" for req in sink.requests)
    assert len(sink.requests) > 1  # batched by count


def test_503_then_200_is_delivered_once_with_the_same_batch_id(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(503, {})]
    shipper = Shipper(sink.url, batch_size=100, flush_interval=0.05, spill_dir=tmp_path)
    for i in range(5):
        assert shipper.write(_line(i))
    assert shipper.flush(timeout=20)
    shipper.shutdown()

    assert [r.status for r in sink.requests] == [503, 200]
    first, second = sink.requests
    assert first.headers["X-Aitrace-Batch-Id"] == second.headers["X-Aitrace-Batch-Id"]
    assert [r["seq"] for r in sink.accepted()] == [0, 1, 2, 3, 4]
    sink.accepted().validate()
    stats = shipper.stats()
    assert stats["sent"] == 5
    assert stats["retries"] == 1
    assert stats["spilled"] == 0


def test_429_retry_after_is_honoured(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(429, {"Retry-After": "1"})]
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    shipper.write(_line(0))
    assert shipper.flush(timeout=20)
    shipper.shutdown()

    assert [r.status for r in sink.requests] == [429, 200]
    # Without Retry-After the first backoff is at most 0.25 s; the server asked for 1 s.
    assert sink.requests[1].at - sink.requests[0].at >= 0.9
    assert len(sink.accepted()) == 1


def test_502_and_504_are_retried_with_backoff(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(502, {}), (504, {})]
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    shipper.write(_line(0))
    assert shipper.flush(timeout=20)
    shipper.shutdown()
    assert [r.status for r in sink.requests] == [502, 504, 200]
    assert len({r.headers["X-Aitrace-Batch-Id"] for r in sink.requests}) == 1
    assert shipper.stats()["retries"] == 2
    assert len(sink.accepted()) == 1


def test_500_is_not_retried_but_kept_in_the_spill_file(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(500, {})]
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    for i in range(4):
        shipper.write(_line(i))
    assert shipper.flush(timeout=20)
    shipper.shutdown()
    assert [r.status for r in sink.requests] == [500]
    assert [r["seq"] for r in _read_jsonl(shipper.spill_path)] == [0, 1, 2, 3]


@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_4xx_naming_a_record_refuses_that_record_only(status: int, sink: Sink, tmp_path: Path) -> None:
    sink.decide = lambda records: next(
        ((status, {"error": f"record {i}: bad", "index": i}) for i, r in enumerate(records) if r.get("bad")),
        None,
    )
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    for i in range(4):
        shipper.write(_line(i, bad=True) if i == 2 else _line(i))
    assert shipper.flush(timeout=20)
    shipper.shutdown()

    assert [r["seq"] for r in sink.accepted()] == [0, 1, 3]
    stats = shipper.stats()
    assert (stats["sent"], stats["rejected"], stats["retries"], stats["spilled"]) == (3, 1, 0, 0)
    kept = list(tmp_path.rglob("*.rejected"))
    assert [r["seq"] for f in kept for r in _read_jsonl(f)] == [2]
    assert not list(tmp_path.rglob("*.jsonl"))  # nothing else was kept back


def test_a_400_about_the_request_is_not_retried_and_the_batch_is_kept(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(400, {})]  # no record named: the request itself (a header, the encoding)
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    for i in range(3):
        shipper.write(_line(i))
    assert shipper.flush(timeout=20)
    shipper.write(_line(3))  # the shipper keeps working after it
    assert shipper.flush(timeout=20)
    shipper.shutdown()

    assert [r.status for r in sink.requests] == [400, 200]
    assert [r["seq"] for r in sink.accepted()] == [3]
    assert shipper.spill_path is not None
    assert [r["seq"] for r in _read_jsonl(shipper.spill_path)] == [0, 1, 2]
    assert shipper.stats()["retries"] == 0


def test_server_down_never_blocks_and_the_spill_file_holds_every_record(
    closed_port_url: str, tmp_path: Path
) -> None:
    shipper = Shipper(closed_port_url, batch_size=50, flush_interval=0.05, spill_dir=tmp_path, exit_timeout=2)
    n = 3000
    slowest = 0.0
    for i in range(n):
        t0 = time.perf_counter()
        shipper.write(_line(i))
        slowest = max(slowest, time.perf_counter() - t0)
    assert slowest < 0.5  # an append under a lock, never a network wait (bound generous for a noisy box)

    t0 = time.monotonic()
    shipper.shutdown()
    assert time.monotonic() - t0 < 2 + 2

    spilled = _read_jsonl(shipper.spill_path)
    assert sorted(int(r["seq"]) for r in spilled) == list(range(n))  # type: ignore[call-overload]
    stats = shipper.stats()
    assert stats["spilled"] == n
    assert stats["sent"] == 0
    CapturedRecords(spilled).validate()


def test_shutdown_with_a_hanging_server_ends_within_the_bound(hanging_url: str, tmp_path: Path) -> None:
    shipper = Shipper(
        hanging_url, flush_interval=0.01, spill_dir=tmp_path, request_timeout=60, exit_timeout=1
    )
    for i in range(10):
        shipper.write(_line(i))
    assert not shipper.flush(timeout=0.3)  # the request is stuck: flush reports it, without raising

    t0 = time.monotonic()
    shipper.shutdown()
    assert time.monotonic() - t0 < 1 + 2
    # The stuck batch was cut short and kept locally.
    assert sorted(int(r["seq"]) for r in _read_jsonl(shipper.spill_path)) == list(range(10))  # type: ignore[call-overload]


def test_configure_with_server_down_exits_within_exit_timeout(closed_port_url: str, tmp_path: Path) -> None:
    aitrace_core.configure(
        service_name="down",
        target=closed_port_url,
        exit_timeout=1.5,
        spill_dir=str(tmp_path),
        flush_interval=0.05,
    )
    log = get_logger("down")
    with span("work"):
        for i in range(200):
            log.info("line", i=i)
    t0 = time.monotonic()
    aitrace_core.shutdown(timeout=1.5)
    assert time.monotonic() - t0 < 1.5 + 2
    spilled = CapturedRecords(r for f in tmp_path.rglob("*.jsonl") for r in _read_jsonl(f))
    assert len(spilled) == 202
    spilled.validate()


def test_queue_overflow_drops_incoming_records_counts_them_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "out.jsonl"
    # The worker only sends on flush: nothing drains while we overfill.
    shipper = Shipper(target, max_queue=100, batch_size=10_000, flush_interval=3600)
    with caplog.at_level(logging.WARNING, logger="aitrace"):
        results = [shipper.write(_line(i)) for i in range(250)]
    assert results == [True] * 100 + [False] * 150
    assert shipper.stats()["dropped_queue_full"] == 150
    warnings = [r for r in caplog.records if r.name == "aitrace" and "queue full" in r.getMessage()]
    assert len(warnings) == 1
    assert shipper.flush(timeout=10)
    shipper.shutdown()
    assert [r["seq"] for r in _read_jsonl(target)] == list(range(100))  # the oldest are kept


def test_queue_byte_bound_drops_too(tmp_path: Path) -> None:
    shipper = Shipper(tmp_path / "out.jsonl", max_queue_bytes=10_000, batch_size=10_000, flush_interval=3600)
    big = _line(0, payload="x" * 4000)
    assert [shipper.write(big) for _ in range(4)] == [True, True, False, False]
    assert shipper.stats()["dropped_queue_full"] == 2
    shipper.shutdown()


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_forked_child_ships_its_own_records_and_not_the_parents(sink: Sink, tmp_path: Path) -> None:
    shipper = Shipper(sink.url, batch_size=10_000, flush_interval=3600, spill_dir=tmp_path)
    for i in range(5):
        shipper.write(_line(i, event_from="parent-before-fork"))
    assert shipper.stats()["queued"] == 5

    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            for i in range(7):
                shipper.write(_line(100 + i, event_from="child"))
            ok = shipper.flush(timeout=10)
            stats = shipper.stats()
            shipper.shutdown(timeout=5)
            code = 0 if ok and stats["sent"] == 7 and stats["accepted"] == 7 else 2
        finally:
            os._exit(code)

    end = time.monotonic() + 30
    status = None
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        sink.wait_for(len(sink.requests) + 1, timeout=0.2)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("forked child did not finish: deadlock?")
    assert os.waitstatus_to_exitcode(status) == 0

    for i in range(3):
        shipper.write(_line(200 + i, event_from="parent-after-fork"))
    assert shipper.flush(timeout=20)
    shipper.shutdown()

    received = sink.accepted()
    received.validate()
    assert [r["event_from"] for r in received].count("child") == 7
    seqs = [r["seq"] for r in received]
    assert sorted(seqs) == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 105, 106, 200, 201, 202]


def _append_from_process(path: str, worker: int, n: int) -> None:
    shipper = Shipper(path, batch_size=7, flush_interval=0.01)
    for i in range(n):
        # Some big lines: a torn write would show as invalid JSON or a mixed line.
        shipper.write(_line(i, worker=worker, pad=f"w{worker}" * (20_000 if i % 50 == 0 else 5)))
    shipper.shutdown(timeout=30)


def test_several_processes_appending_to_one_file_never_interleave(tmp_path: Path) -> None:
    target = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_from_process, args=(str(target), w, 300)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = target.read_text("utf-8").splitlines()
    assert len(lines) == 900
    by_worker: dict[int, list[int]] = defaultdict(list)
    for line in lines:
        rec = json.loads(line)  # every line is one whole record
        assert set(rec["pad"]) <= set(f"w{rec['worker']}")
        by_worker[rec["worker"]].append(rec["seq"])
    assert all(seqs == list(range(300)) for seqs in by_worker.values())


def test_stdout_target_writes_one_record_a_line() -> None:
    code = (
        "import aitrace_core as a\n"
        "a.configure(service_name='cli', target='-')\n"
        "log = a.get_logger('cli')\n"
        "with a.span('main'):\n"
        "    log.info('hello', n=1)\n"
        "a.shutdown()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    records = CapturedRecords([json.loads(line) for line in out.stdout.splitlines()])
    assert [r["event"] for r in records] == ["span_start", "hello", "span_end"]
    assert {r["service"] for r in records} == {"cli"}
    records.validate()


def test_unwritable_file_counts_drops_and_raises_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    shipper = Shipper(blocker / "out.jsonl", flush_interval=0.01)
    assert all(shipper.write(_line(i)) for i in range(5))
    assert shipper.flush(timeout=10)
    shipper.shutdown()
    stats = shipper.stats()
    assert stats["dropped_io"] == 5
    assert stats["written"] == 0


def test_configure_with_unwritable_file_never_breaks_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    aitrace_core.configure(service_name="app", target=blocker / "x" / "out.jsonl")

    @auto_span
    def work() -> int:
        get_logger().info("inside")
        return 42

    assert work() == 42
    assert aitrace_core.flush(timeout=10)
    shipper = aitrace_core.current_shipper()
    assert shipper is not None
    assert shipper.stats()["dropped_io"] == 3


def test_buffered_logger_flushes_on_exit(tmp_path: Path) -> None:
    target = tmp_path / "jobs.jsonl"
    with span("job") as job, BufferedLogger(target=target, service_name="jobs", flush_interval=3600) as log:
        log.info("job started", job_id=7)
        log.warning("slow", seconds=1.5)
        log.error("failed", level_hint="x")
    records = CapturedRecords(_read_jsonl(target))
    records.validate()
    assert [r["event"] for r in records] == ["job started", "slow", "failed"]
    assert [r["level"] for r in records] == ["info", "warning", "error"]
    assert {r["span_id"] for r in records} == {job.span_id}
    assert {r["trace_id"] for r in records} == {job.trace_id}
    assert records[0]["job_id"] == 7
    assert {r["service"] for r in records} == {"jobs"}


def test_records_written_after_shutdown_are_counted_not_raised(tmp_path: Path) -> None:
    shipper = Shipper(tmp_path / "out.jsonl")
    shipper.write(_line(0))
    shipper.shutdown()
    assert shipper.write(_line(1)) is False
    stats = shipper.stats()
    assert (stats["written"], stats["dropped_closed"], stats["dropped_queue_full"]) == (1, 1, 0)


def _child_writes_without_shutdown(shipper: Shipper, worker: int) -> None:
    for i in range(20):
        shipper.write(_line(i, worker=worker))
    # no flush, no shutdown: the process just ends


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_multiprocessing_fork_children_flush_at_exit(tmp_path: Path) -> None:
    target = tmp_path / "children.jsonl"
    shipper = Shipper(target, flush_interval=3600, batch_size=10_000)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_child_writes_without_shutdown, args=(shipper, w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    shipper.shutdown()
    records = _read_jsonl(target)
    assert sorted((r["worker"], r["seq"]) for r in records) == [(w, i) for w in range(2) for i in range(20)]


def test_server_that_comes_back_is_used_again(sink: Sink, tmp_path: Path) -> None:
    sink.script = [(503, {}), (503, {})]  # away for one batch's two attempts
    shipper = Shipper(sink.url, flush_interval=0.01, spill_dir=tmp_path, max_attempts=2, probe_interval=0.2)
    shipper.write(_line(0))
    assert shipper.flush(timeout=10)
    assert shipper.stats()["spilled"] == 1
    i = 1
    end = time.monotonic() + 20
    while shipper.stats()["sent"] == 0 and time.monotonic() < end:
        shipper.write(_line(i))  # spilled while the server counts as away, then sent after a probe
        assert shipper.flush(timeout=10)
        sink.wait_for(len(sink.requests) + 1, timeout=0.05)  # pace the loop on the server, not a sleep
        i += 1
    shipper.shutdown()
    stats = shipper.stats()
    assert stats["sent"] >= 1
    assert stats["sent"] + stats["spilled"] == i
    spilled = [r["seq"] for r in _read_jsonl(shipper.spill_path)]
    sent = [r["seq"] for r in sink.accepted()]
    assert sorted(spilled + sent) == list(range(i))  # each record in exactly one place


def test_a_log_handler_that_writes_back_into_a_full_queue_does_not_deadlock(tmp_path: Path) -> None:
    shipper = Shipper(tmp_path / "out.jsonl", max_queue=100, batch_size=10_000, flush_interval=3600)

    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            shipper.write(_line(999, note=record.getMessage()))

    handler = Echo()
    logging.getLogger("aitrace").addHandler(handler)
    try:
        worker = threading.Thread(target=lambda: [shipper.write(_line(i)) for i in range(150)], daemon=True)
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "write() deadlocked on its own drop warning"
    finally:
        logging.getLogger("aitrace").removeHandler(handler)
    assert shipper.stats()["dropped_queue_full"] == 51  # 50 of ours + the echoed warning
    shipper.shutdown()


def test_a_busy_writer_that_often_releases_the_gil_loses_nothing(tmp_path: Path) -> None:
    """A CPU-bound application that also makes brief system calls (``uuid4()`` reads ``os.urandom``) used to
    starve the worker of the GIL: one batch in seconds, and most of the records dropped."""
    target = tmp_path / "out.jsonl"
    shipper = Shipper(target, flush_interval=0.5)
    try:
        for i in range(40_000):
            shipper.write(_line(i))
            if i % 8 == 0:
                os.urandom(16)  # a brief release of the GIL, as a uuid4() for each run makes
            sum(range(1000))  # and the application's own work
        assert shipper.flush(30)
        assert shipper.stats().get("dropped_queue_full", 0) == 0
        assert len(_read_jsonl(target)) == 40_000
    finally:
        shipper.shutdown()
