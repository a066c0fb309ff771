"""End to end: instrumented code → the shipper → a real server process → the API, record for record."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from aitrace_viewer.store import parse_ts
from conftest import wait_for

import aitrace_core
from aitrace_core import auto_span, dumps, get_logger
from aitrace_core._runtime import runtime

log = get_logger("e2e")


def _emitted() -> tuple[list[dict[str, Any]], Any]:
    tapped: list[dict[str, Any]] = []
    lock = threading.Lock()

    def tap(record: dict[str, Any]) -> dict[str, Any]:
        with lock:
            tapped.append(record)
        return record

    return tapped, tap


def _workload() -> None:
    from langchain_core.messages import HumanMessage

    from aitrace_langchain import AITraceHandler
    from aitrace_langchain.testing import FakeChatModel

    model = FakeChatModel(responses=["It is sunny in Lisbon."], model_name="fake-chat-1")

    @auto_span("answer", kind="function", capture_args=True, capture_result=True)
    def answer(question: str) -> str:
        log.info("asking the model", question=question, odd={"__proto__": 1, "<b>": "</script>"})
        reply = model.invoke([HumanMessage(question)], config={"callbacks": [AITraceHandler()]})
        return str(reply.content)

    @auto_span("fails", kind="function")
    def fails() -> None:
        log.warning("about to fail")
        raise ValueError("boom")

    answer("weather in Lisbon?")
    with pytest.raises(ValueError, match="boom"):
        fails()


def test_what_was_emitted_is_what_the_api_returns(db_url: str, server_factory: Any) -> None:
    server = server_factory(db_url)
    tapped, tap = _emitted()
    aitrace_core.configure(
        service_name="e2e",
        target=server.url + "/api/ingest",
        processors=[tap],
        batch_size=3,
        flush_interval=0.05,
    )
    _workload()
    assert aitrace_core.flush(timeout=20)
    expected = [json.loads(dumps(r, runtime.limits)) for r in tapped]
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for record in expected:
        by_trace.setdefault(record["trace_id"], []).append(record)
    assert len(by_trace) == 2
    assert any(r.get("span_kind") in ("llm", "chat_model") for r in expected), "the LangChain run was traced"
    listed = httpx.get(server.url + "/api/traces").json()["traces"]
    assert {t["trace_id"] for t in listed} == set(by_trace)
    for trace_id, records in by_trace.items():
        records.sort(key=lambda r: (parse_ts(r["timestamp"]), r["seq"]))
        detail = httpx.get(f"{server.url}/api/traces/{trace_id}").json()
        assert detail["records"] == records
        summary = detail["summary"]
        assert summary["record_count"] == len(records)
        assert summary["span_count"] == len({r["span_id"] for r in records})
        assert summary["service"] == "e2e"
    statuses = {t["root_name"]: t for t in listed}
    assert statuses["fails"]["status"] == "error"
    assert statuses["fails"]["error_count"] == 1
    assert statuses["answer"]["status"] == "ok"
    assert statuses["answer"]["total_tokens"]
    assert statuses["answer"]["model"] == "fake-chat-1"


def test_the_event_stream_announces_new_traces(tmp_path: Any, server_factory: Any) -> None:
    server = server_factory(f"sqlite:///{tmp_path / 'logs.db'}")
    record = {
        "timestamp": "2026-11-24T12:00:00.000001Z",
        "level": "info",
        "event": "span_start",
        "logger": "l",
        "service": "s",
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "span_name": "root",
        "span_kind": "chain",
    }
    seen: list[str] = []
    with httpx.Client(timeout=30) as client, client.stream("GET", server.url + "/api/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        wait_for(lambda: next(lines).startswith("event: ping"), 30, "the first ping")
        assert httpx.post(server.url + "/api/ingest", json=[record]).json() == {"ingested": 1}
        event = None
        for line in lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "trace":
                seen.append(json.loads(line[6:])["trace_id"])
                break
    assert seen == ["ab" * 16]
