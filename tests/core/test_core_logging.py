"""``get_logger`` records carry the span's ids; stdlib logging is routed when asked."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import structlog

import aitrace_core
from aitrace_core import auto_span, get_logger, span
from aitrace_core.testing import CapturedRecords, capture_records


def test_log_records_carry_trace_span_and_parent_ids(records: CapturedRecords) -> None:
    log = get_logger("shop")
    with span("outer") as outer, span("inner") as inner:
        log.info("charging card", amount="19.90")
    rec = records.events("charging card")[0]
    assert rec["trace_id"] == outer.trace_id == inner.trace_id
    assert rec["span_id"] == inner.span_id
    assert rec["parent_span_id"] == outer.span_id
    assert rec["logger"] == "shop"
    assert rec["amount"] == "19.90"
    assert rec["level"] == "info"


def test_log_outside_any_span_gets_ids_of_its_own(records: CapturedRecords) -> None:
    log = get_logger("shop")
    log.warning("first")
    log.warning("second")
    first, second = records
    assert first["trace_id"] != second["trace_id"]
    assert "parent_span_id" not in first
    assert first["level"] == "warning"


def test_logger_name_defaults_to_calling_module(records: CapturedRecords) -> None:
    get_logger().info("hello")
    assert records[0]["logger"] == __name__


def test_bound_values_and_contextvars_are_kept(records: CapturedRecords) -> None:
    log = get_logger("svc", request_id="r-1").bind(user=3)
    structlog.contextvars.bind_contextvars(tenant="acme")
    try:
        log.info("bound")
    finally:
        structlog.contextvars.clear_contextvars()
    rec = records[0]
    assert (rec["request_id"], rec["user"], rec["tenant"]) == ("r-1", 3, "acme")


def test_log_exception_gives_error_fields(records: CapturedRecords) -> None:
    log = get_logger("svc")
    with span("work"):
        try:
            {}["nope"]
        except KeyError:
            log.exception("lookup failed")
    rec = records.events("lookup failed")[0]
    assert rec["level"] == "error"
    assert rec["error.type"] == "KeyError"
    assert rec["error.message"] == "'nope'"
    assert "KeyError" in rec["error.stacktrace"]
    assert rec["span_id"] == records.one("work").span_id


def test_level_filter_applies(tmp_path: Path) -> None:
    with capture_records(level="warning") as captured:
        log = get_logger("svc")
        log.debug("hidden")
        log.info("hidden too")
        log.error("shown")
    assert [r["event"] for r in captured] == ["shown"]


def test_non_json_values_in_log_calls_are_serialized(records: CapturedRecords) -> None:
    import uuid
    from decimal import Decimal

    uid = uuid.UUID(int=5)
    get_logger("svc").info("values", uid=uid, price=Decimal("1.10"), tags={"b", "a"})
    rec = records[0]
    assert (rec["uid"], rec["price"], rec["tags"]) == (str(uid), "1.10", ["a", "b"])


def test_stdlib_logging_is_routed_when_asked(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "out.jsonl", capture_stdlib=True)
    std = logging.getLogger("myapp.db")
    with capture_records() as captured:

        @auto_span("query")
        def query() -> None:
            std.info("running %s", "SELECT 1", extra={"rows": 1})
            try:
                raise TimeoutError("db slow")
            except TimeoutError:
                std.exception("query failed")

        query()
        logging.getLogger("aitrace").warning("aitrace's own diagnostics")
        logging.getLogger("aitrace.shipper").warning("nor its children")
    captured.validate()
    view = captured.one("query")
    logs = [r for r in captured if r["event"] not in ("span_start", "span_end")]
    assert [r["event"] for r in logs] == ["running SELECT 1", "query failed"]
    assert all(r["span_id"] == view.span_id and r["logger"] == "myapp.db" for r in logs)
    assert logs[0]["rows"] == 1
    assert logs[1]["level"] == "error"
    assert logs[1]["error.type"] == "TimeoutError"
    assert logs[1]["error.message"] == "db slow"


def test_stdlib_logging_is_not_routed_by_default(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "out.jsonl")
    with capture_records() as captured:
        logging.getLogger("myapp").warning("not ours")
    assert list(captured) == []


def test_shutdown_removes_the_stdlib_bridge(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "out.jsonl", capture_stdlib=True)
    aitrace_core.shutdown()
    assert not any(isinstance(h, aitrace_core.StdlibBridge) for h in logging.getLogger().handlers)


def test_timestamps_are_rfc3339_utc_and_match_the_clock() -> None:
    import datetime as dt

    from aitrace_core._runtime import format_timestamp

    ns = 1_764_000_000_123_456_789
    assert format_timestamp(ns) == "2025-11-24T16:00:00.123456Z"
    assert format_timestamp(ns + 1_000_000_000) == "2025-11-24T16:00:01.123456Z"
    for i in range(5000):  # across many seconds: the cached prefix always matches the second
        t = ns + i * 7_919_000
        want = dt.datetime.fromtimestamp(t // 10**9, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        assert format_timestamp(t) == f"{want}.{t % 10**9 // 1000:06d}Z"


def test_a_processor_given_to_configure_applies_to_every_record(tmp_path: Path) -> None:
    """One record path: a user's redactor sees what ``get_logger`` and what ``BufferedLogger`` write."""
    import json

    def redact(record: Any) -> Any:
        if "password" in record:
            record["password"] = "[redacted]"
        return record

    aitrace_core.configure(service_name="app", target=tmp_path / "app.jsonl", processors=[redact])
    try:
        get_logger("login").info("signing in", user="ada", password="hunter2")
        with aitrace_core.BufferedLogger(target=tmp_path / "job.jsonl", service_name="jobs") as job:
            assert job.info("job signing in", user="ada", password="hunter2")
            assert job.debug("a detail")  # a BufferedLogger keeps every level, as before
        aitrace_core.flush()
    finally:
        aitrace_core.shutdown()
    for name, service in (("app.jsonl", "app"), ("job.jsonl", "jobs")):
        text = (tmp_path / name).read_text("utf-8")
        assert "hunter2" not in text, f"the password leaked through {name}"
        first = json.loads(text.splitlines()[0])
        assert (first["password"], first["user"], first["service"]) == ("[redacted]", "ada", service)


def test_a_user_attribute_never_overwrites_a_record_key_on_any_path(tmp_path: Path) -> None:
    """Spans, get_logger, stdlib logging and BufferedLogger all keep ``status=…`` as ``attr.status``."""
    import json

    aitrace_core.configure(service_name="app", target=tmp_path / "app.jsonl", capture_stdlib=True)
    try:
        with span("s", status="mine") as s:
            s.set(duration_ms="mine")
            get_logger("mod").info("from structlog", timestamp="mine", service="mine")
            logging.getLogger("std").warning("from stdlib", extra={"span_id": "mine", "seq": "mine"})
            with aitrace_core.BufferedLogger(target=tmp_path / "job.jsonl", service_name="jobs") as job:
                job.info("from a buffered logger", trace_id="mine", level="mine")
        aitrace_core.flush()
    finally:
        aitrace_core.shutdown()
    lines = [json.loads(line) for name in ("app.jsonl", "job.jsonl") for line in (tmp_path / name).open()]
    moved = {key for record in lines for key, value in record.items() if value == "mine"}
    assert moved == {
        "attr.status", "attr.duration_ms", "attr.timestamp", "attr.service", "attr.span_id", "attr.seq",
        "attr.trace_id", "attr.level",
    }
