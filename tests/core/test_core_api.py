"""configure(processors=...), flush/shutdown return values, and tracing never breaking the application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import aitrace_core
from aitrace_core import auto_span, get_logger, span
from aitrace_core.testing import CapturedRecords


def test_processors_can_change_and_drop_records(tmp_path: Path) -> None:
    def redact(record: Any) -> Any:
        if "password" in record:
            record["password"] = "***"
        return record

    def drop_debug(record: Any) -> Any:
        return None if record["level"] == "debug" else record

    target = tmp_path / "out.jsonl"
    aitrace_core.configure(service_name="svc", target=target, level="debug", processors=[redact, drop_debug])
    log = get_logger("svc")
    with span("login"):
        log.info("login", user="ann", password="hunter2")
        log.debug("noise")
    assert aitrace_core.flush(timeout=10)
    records = CapturedRecords.from_jsonl(target)
    records.validate()
    assert [r["event"] for r in records] == ["span_start", "login", "span_end"]
    assert records[1]["password"] == "***"
    assert "hunter2" not in target.read_text()


def test_a_failing_processor_never_breaks_the_application(tmp_path: Path) -> None:
    def broken(record: Any) -> Any:
        raise RuntimeError("processor bug")

    aitrace_core.configure(service_name="svc", target=tmp_path / "out.jsonl", processors=[broken])

    @auto_span(capture_args=True, capture_result=True)
    def add(a: int, b: int) -> int:
        get_logger().info("adding")
        return a + b

    boom = ValueError("the app's own error")

    @auto_span
    def fails() -> None:
        raise boom

    assert add(2, 3) == 5
    with pytest.raises(ValueError) as info:
        fails()
    assert info.value is boom  # the application's exception, not aitrace's
    assert aitrace_core.flush(timeout=5)


def test_flush_and_shutdown_report_success(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    aitrace_core.configure(service_name="svc", target=target, flush_interval=3600)
    get_logger("svc").info("one")
    assert aitrace_core.flush(timeout=10) is True
    assert target.read_text().count("\n") == 1
    get_logger("svc").info("two")
    assert aitrace_core.shutdown(timeout=10) is True
    assert target.read_text().count("\n") == 2
    assert aitrace_core.current_shipper() is None
    get_logger("svc").info("after shutdown: dropped, not raised")
    assert aitrace_core.flush() is True
    assert target.read_text().count("\n") == 2


def test_configure_again_flushes_the_previous_target(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    aitrace_core.configure(service_name="svc", target=first, flush_interval=3600)
    get_logger("svc").info("to first")
    aitrace_core.configure(service_name="svc", target=second, flush_interval=3600)
    get_logger("svc").info("to second")
    aitrace_core.flush(timeout=10)
    assert [r["event"] for r in CapturedRecords.from_jsonl(first)] == ["to first"]
    assert [r["event"] for r in CapturedRecords.from_jsonl(second)] == ["to second"]
