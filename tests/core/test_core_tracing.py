"""OTel integration: an application's exporter sees aitrace's spans; sampling drops whole traces."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aitrace_core
from aitrace_core import auto_span, get_logger, span
from aitrace_core._runtime import runtime
from aitrace_core.testing import CapturedRecords, capture_records


def test_spans_reach_an_exporter_when_one_is_installed(
    records: CapturedRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(runtime, "provider", provider)
    monkeypatch.setattr(runtime, "tracer", provider.get_tracer("aitrace"))
    monkeypatch.setattr(runtime, "own_provider", False)

    @auto_span("child")
    def child() -> None:
        raise ValueError("x")

    with span("parent") as parent, pytest.raises(ValueError):
        child()
    finished = {s.name: s for s in exporter.get_finished_spans()}
    assert set(finished) == {"parent", "child"}
    assert f"{finished['child'].context.span_id:016x}" == records.one("child").span_id
    assert finished["child"].parent is not None
    assert f"{finished['child'].parent.span_id:016x}" == parent.span_id
    assert not finished["child"].status.is_ok


def test_own_provider_switches_to_sdk_spans_when_an_exporter_is_added(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "x.jsonl")
    exporter = InMemorySpanExporter()
    assert runtime.provider is not None
    runtime.provider.add_span_processor(SimpleSpanProcessor(exporter))
    with capture_records() as captured, span("exported"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["exported"]
    assert captured.one("exported").status == "ok"


def test_sample_ratio_zero_drops_whole_traces(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "x.jsonl", sample_ratio=0.0)
    log = get_logger("svc")

    @auto_span
    def work() -> int:
        log.info("inside an unsampled trace")
        with span("nested"):
            log.info("deeper")
        return 1

    with capture_records() as captured:
        assert work() == 1
        log.info("outside any span")
    assert [r["event"] for r in captured] == ["outside any span"]


def test_sample_ratio_one_keeps_everything(tmp_path: Path) -> None:
    aitrace_core.configure(service_name="svc", target=tmp_path / "x.jsonl", sample_ratio=1.0)
    with capture_records() as captured, span("kept"):
        pass
    assert [r["event"] for r in captured] == ["span_start", "span_end"]


def test_reconfiguring_keeps_aitrace_in_charge_of_its_own_provider(tmp_path: Path) -> None:
    for _ in range(3):  # the provider installed globally by the first call is still aitrace's own
        aitrace_core.configure(service_name="svc", target=tmp_path / "x.jsonl")
    aitrace_core.configure(service_name="svc", target=tmp_path / "x.jsonl", sample_ratio=0.0)
    with capture_records() as captured, span("dropped"):
        pass
    assert list(captured) == []
