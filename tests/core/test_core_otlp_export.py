"""OTLP export from configure(): errors, headers and settings, and a receiver that is down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from otlp_receiver import Receiver

import aitrace_core


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_error_is_an_error_span_with_an_exception_event(tmp_path: Path) -> None:
    @aitrace_core.auto_span()
    def charge(amount: int) -> None:
        raise ValueError(f"card declined for {amount}")

    with Receiver() as receiver:
        aitrace_core.configure(
            service_name="pay", target=str(tmp_path / "t.jsonl"), otlp_endpoint=receiver.url
        )
        with pytest.raises(ValueError, match="card declined"):
            charge(12)
        assert aitrace_core.flush(10)
        assert receiver.wait_for(lambda r: bool(r.spans))
        [span] = receiver.spans
    assert span["status"] == 2  # STATUS_CODE_ERROR
    assert "card declined for 12" in span["status_message"]
    [(name, event)] = span["events"]
    assert name == "exception"
    assert event["exception.type"] == "ValueError"
    assert "raise ValueError" in event["exception.stacktrace"]
    assert span["name"].endswith("charge")


def test_headers_go_with_every_request(tmp_path: Path) -> None:
    with Receiver() as receiver:
        aitrace_core.configure(
            target="none", otlp_endpoint=receiver.url, otlp_headers="authorization=Bearer%20s3cret,x-team=ml"
        )
        with aitrace_core.span("job"):
            aitrace_core.get_logger().info("working")
        assert aitrace_core.flush(10)
        assert receiver.wait_for(lambda r: len(r.requests) >= 2)
        requests = list(receiver.requests)
    assert {path for path, _ in requests} == {"/v1/traces", "/v1/logs"}
    for _, headers in requests:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert lowered["authorization"] == "Bearer s3cret"
        assert lowered["x-team"] == "ml"


def test_the_standard_otel_variables_are_used_when_aitrace_names_no_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Receiver() as receiver, Receiver() as other:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", other.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url + "/v1/traces")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-from=otel-env")
        monkeypatch.setenv("AITRACE_OTLP", "true")
        aitrace_core.configure(target="none")
        with aitrace_core.span("job"):
            aitrace_core.get_logger().info("working")
        assert aitrace_core.flush(10)
        # traces: the signal's own variable wins over the general one; logs: the general one
        assert receiver.wait_for(lambda r: bool(r.spans))
        assert other.wait_for(lambda r: bool(r.logs))
        assert not other.spans
        assert {h.get("x-from") for _, h in receiver.requests} == {"otel-env"}


def test_aitrace_otlp_endpoint_wins_over_the_standard_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with Receiver() as receiver, Receiver() as other:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", other.url)
        monkeypatch.setenv("AITRACE_OTLP_ENDPOINT", receiver.url)
        aitrace_core.configure(target="none")
        with aitrace_core.span("job"):
            pass
        assert aitrace_core.flush(10)
        assert receiver.wait_for(lambda r: bool(r.spans))
        assert not other.requests


APP = """
import aitrace_core as a
a.configure(service_name="app", otlp_endpoint={url!r}, exit_timeout=60, request_timeout=60, target={target!r})
with a.span("main"):
    for i in range(200):
        a.get_logger().info("line", i=i)
        if i in (50, 100):
            a.flush(60)  # several batches: the receiver is found away, then known away
"""


def _run_app(tmp_path: Path, url: str, target: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITRACE_", "OTEL_"))}
    env.update(HOME=str(tmp_path), AITRACE_SPILL_DIR=str(tmp_path / "spill"))
    # exit_timeout and request_timeout are 60 s: waiting for them, or for the exporter's retries within
    # them (1 + 2 + 4 + 8 + 16 s), would pass this bound.
    return subprocess.run(
        [sys.executable, "-c", APP.format(url=url, target=target)],
        env=env, capture_output=True, text=True, timeout=20, check=True,
    )


def test_a_receiver_that_is_down_costs_no_wait_and_is_told_once_with_the_spill_file(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    done = _run_app(tmp_path, url, str(tmp_path / "beside.jsonl"))
    told = [line for line in done.stderr.splitlines() if "OTLP" in line]
    assert len(told) == 1, done.stderr
    assert url in told[0]
    assert "Traceback" not in done.stderr
    [spill] = (tmp_path / "spill").rglob("*-otlp.jsonl")
    assert str(spill) in told[0]
    kept = [json.loads(line) for line in spill.read_text("utf-8").splitlines()]
    beside = [json.loads(line) for line in (tmp_path / "beside.jsonl").read_text("utf-8").splitlines()]
    assert len(kept) == len(beside) == 202  # nothing lost: every record is in the spill file
    # … and sending the spill file later delivers the run
    with Receiver() as receiver:
        from aitrace_core._otlp_convert import records_to_otlp
        from aitrace_core._otlp_target import OtlpExporters

        spans, logs, skipped = records_to_otlp(kept)
        exporters = OtlpExporters(receiver.url, None, 10.0, True)
        assert exporters.export(spans, logs) == (True, True)
        assert receiver.wait_for(lambda r: len(r.logs) == 200 and len(r.spans) == 1)
    assert skipped == 0


def test_a_receiver_that_is_up_gets_everything_before_exit(tmp_path: Path) -> None:
    with Receiver() as receiver:
        started = time.monotonic()
        _run_app(tmp_path, receiver.url, "none")
        assert receiver.wait_for(lambda r: len(r.logs) == 200 and len(r.spans) == 1, timeout=5)
    assert time.monotonic() - started >= 0  # (no timing claim: the bound is _run_app's timeout)
    assert not (tmp_path / "spill").exists()


def _start(span: str, n: int) -> dict[str, object]:
    return {
        "timestamp": f"2026-11-25T12:00:0{n}.000000Z", "level": "info", "event": "span_start",
        "logger": "t", "service": "s", "trace_id": "ab" * 16, "span_id": span, "parent_span_id": "cd" * 8,
        "span_name": f"step {n}", "span_kind": "node", "input": {"n": n},
    }


def _end(span: str, n: int, status: str = "ok") -> dict[str, object]:
    return {**_start(span, n), "event": "span_end", "duration_ms": 5.0, "status": status, "output": n}


def test_memory_is_bounded_by_open_spans_and_the_oldest_keeps_its_end() -> None:
    from aitrace_core._otlp_convert import RecordsToOtlp

    converter = RecordsToOtlp(max_open=3)
    ids = [f"{i + 1:016x}" for i in range(5)]
    for n, span in enumerate(ids):
        converter.add(_start(span, n))
    for n, span in enumerate(ids):
        converter.add(_end(span, n, "cancelled" if n == 4 else "ok"))
    spans, _ = converter.take()
    assert converter.starts_dropped == 2
    by_id = {f"{s.context.span_id:016x}": s for s in spans}
    assert set(by_id) == set(ids)  # every span is sent...
    # ...the two oldest from their end alone (no input), the others whole
    assert ["input.value" in by_id[span].attributes for span in ids] == [False, False, True, True, True]
    # timing from the end record: start = end - duration
    oldest = by_id[ids[0]]
    assert oldest.end_time - oldest.start_time == 5_000_000
    assert by_id[ids[4]].status.status_code.name == "UNSET"
    assert by_id[ids[4]].attributes["aitrace.status"] == "cancelled"
    assert by_id[ids[3]].status.status_code.name == "OK"


def test_a_receiver_without_a_logs_endpoint_is_told_once_and_its_spans_still_flow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver() as receiver:
        receiver.logs_status = 405
        aitrace_core.configure(target=str(tmp_path / "all.jsonl"), otlp_endpoint=receiver.url)
        for n in range(3):
            with aitrace_core.span(f"job {n}"):
                aitrace_core.get_logger().info("working", n=n)
            assert aitrace_core.flush(10)
        assert receiver.wait_for(lambda r: len(r.spans) == 3)
        log_posts = [path for path, _ in receiver.requests if path == "/v1/logs"]
    told = [r.getMessage() for r in caplog.records if "OTLP" in r.getMessage()]
    assert len(told) == 1
    assert "does not take logs (HTTP 405)" in told[0]
    assert log_posts == ["/v1/logs"]  # asked once, not with every batch
    assert not list(Path.home().rglob("*-otlp.jsonl"))  # not spilled: there is no endpoint to send to later
    lines = (tmp_path / "all.jsonl").read_text("utf-8").splitlines()
    assert sum('"working"' in line for line in lines) == 3  # the aitrace target keeps every record
