"""The JSON API against the real app in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

from conftest import TRACE, ingest, rec

ROOT = "00f067aa0ba902b7"
LLM = "00f067aa0ba902b8"
TOOL = "00f067aa0ba902b9"


def agent_trace(trace: str = TRACE, *, thread: str = "t-1", fail_tool: bool = False) -> list[dict[str, Any]]:
    return [
        rec(
            "span_start",
            ROOT,
            "00.000100",
            trace=trace,
            seq=0,
            span_name="LangGraph",
            span_kind="graph",
            thread_id=thread,
            input={"question": "weather in Lisbon?"},
        ),
        rec(
            "span_start",
            LLM,
            "00.000200",
            trace=trace,
            parent=ROOT,
            seq=1,
            span_name="ChatFake",
            span_kind="chat_model",
            **{"gen_ai.request.model": "fake-chat-1"},
        ),
        rec(
            "span_end",
            LLM,
            "00.100200",
            trace=trace,
            parent=ROOT,
            seq=2,
            span_name="ChatFake",
            span_kind="chat_model",
            duration_ms=100.0,
            status="ok",
            **{
                "gen_ai.response.model": "fake-chat-1-2026",
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.usage.cost_usd": 0.0001,
            },
        ),
        rec(
            "span_start",
            TOOL,
            "00.100300",
            trace=trace,
            parent=ROOT,
            seq=3,
            span_name="get_weather",
            span_kind="tool",
        ),
        rec(
            "tool says hi",
            TOOL,
            "00.100400",
            trace=trace,
            parent=ROOT,
            seq=4,
            custom={"nested": ["x", 1]},
            unknown_field_kept=True,
        ),
        rec(
            "span_end",
            TOOL,
            "00.200300",
            trace=trace,
            parent=ROOT,
            seq=5,
            span_name="get_weather",
            span_kind="tool",
            duration_ms=100.0,
            status="error" if fail_tool else "ok",
        ),
        rec(
            "span_end",
            ROOT,
            "00.300100",
            trace=trace,
            seq=6,
            span_name="LangGraph",
            span_kind="graph",
            duration_ms=300.0,
            status="ok",
            output={"answer": "sunny"},
        ),
    ]


def test_ingest_then_detail_returns_records_exactly(client: Any) -> None:
    records = agent_trace()
    response = ingest(client, records)
    assert response.status_code == 200, response.text
    assert response.json() == {"ingested": 7}
    detail = client.get(f"/api/traces/{TRACE}").json()
    assert detail["records"] == records
    summary = detail["summary"]
    assert summary["root_name"] == "LangGraph"
    assert summary["root_kind"] == "graph"
    assert summary["status"] == "ok"
    assert summary["error_count"] == 0
    assert (summary["span_count"], summary["record_count"]) == (3, 7)
    assert (summary["input_tokens"], summary["output_tokens"], summary["total_tokens"]) == (12, 5, 17)
    assert summary["cost_usd"] == 0.0001
    assert summary["model"] == "fake-chat-1-2026"
    assert summary["thread_id"] == "t-1"
    assert summary["duration_ms"] == 300.0
    assert summary["start"] == "2026-11-24T12:00:00.000100Z"
    assert summary["end"] == "2026-11-24T12:00:00.300100Z"
    spans = {s["span_id"]: s for s in detail["spans"]}
    assert sorted(spans[ROOT]["children"]) == [LLM, TOOL]
    assert spans[TOOL]["record_count"] == 3
    assert spans[TOOL]["parent_span_id"] == ROOT


def test_summary_is_the_same_whatever_the_order_and_batching(client: Any) -> None:
    records = agent_trace()
    for record in reversed(records):  # ends before starts, one record per batch
        assert ingest(client, [record]).status_code == 200
    summary = client.get(f"/api/traces/{TRACE}").json()["summary"]
    assert summary["status"] == "ok"
    assert summary["span_count"] == 3
    assert summary["record_count"] == 7
    assert summary["root_name"] == "LangGraph"
    assert summary["total_tokens"] == 17
    assert summary["incomplete"] is False


def test_a_trace_without_its_root_end_is_running(client: Any) -> None:
    ingest(client, agent_trace()[:-1])
    summary = client.get(f"/api/traces/{TRACE}").json()["summary"]
    assert summary["status"] == "running"
    # no finished duration is claimed while running (the records so far span 100 ms: not the trace's length)
    assert summary["duration_ms"] is None
    assert summary["end"] is None
    listed = client.get("/api/traces").json()["traces"][0]
    assert (listed["status"], listed["duration_ms"]) == ("running", None)
    detail = client.get(f"/api/traces/{TRACE}").json()
    root = {s["span_id"]: s for s in detail["spans"]}[ROOT]
    assert (root["status"], root["duration_ms"], root["end"]) == ("running", None, None)
    ingest(client, agent_trace()[-1:])
    ended = client.get(f"/api/traces/{TRACE}").json()["summary"]
    assert (ended["status"], ended["duration_ms"]) == ("ok", agent_trace()[-1]["duration_ms"])


def test_json_array_and_gzip_bodies(client: Any) -> None:
    records = agent_trace()
    body = gzip.compress(json.dumps(records).encode())
    response = client.post(
        "/api/ingest", content=body, headers={"content-type": "application/json", "content-encoding": "gzip"}
    )
    assert response.json() == {"ingested": 7}
    assert client.get(f"/api/traces/{TRACE}").json()["records"] == records


def test_a_batch_sent_twice_is_stored_once(client: Any) -> None:
    records = agent_trace()
    assert ingest(client, records, **{"x-aitrace-batch-id": "b-1"}).json() == {"ingested": 7}
    assert ingest(client, records, **{"x-aitrace-batch-id": "b-1"}).json() == {
        "ingested": 7,
        "duplicate": True,
    }
    assert client.get("/api/health").json()["records"] == 7


def _trace_id(n: int) -> str:
    return f"{n + 1:032x}"


def test_listing_is_newest_first_with_a_cursor_and_filters(client: Any) -> None:
    for n in range(7):
        records = agent_trace(_trace_id(n), thread=f"t-{n % 2}", fail_tool=n == 3)
        for r in records:
            r["timestamp"] = r["timestamp"].replace("12:00:", f"12:{n:02d}:")
            if n == 5:
                r["service"] = "other"
        ingest(client, records)
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/traces", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["trace_id"] for t in page["traces"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [_trace_id(n) for n in reversed(range(7))]

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/traces", params=params)
        assert response.status_code == 200, response.text
        return [t["trace_id"] for t in response.json()["traces"]]

    assert ids(service="other") == [_trace_id(5)]
    assert ids(errors="true") == [_trace_id(3)]
    assert ids(status="ok") == seen
    assert ids(thread_id="t-1") == [_trace_id(n) for n in (5, 3, 1)]
    assert ids(since="2026-11-24T12:05:00Z") == [_trace_id(6), _trace_id(5)]
    assert ids(until="2026-11-24T12:00:59Z") == [_trace_id(0)]
    assert ids(min_duration_ms=300, max_duration_ms=300) == seen
    assert ids(min_duration_ms=301) == []
    assert ids(model="fake-chat-1-2026") == seen
    assert ids(span_name="get_weather") == seen
    assert ids(span_name="nope") == []
    assert ids(q="Lisbon") == seen
    assert ids(q="zzzunknown") == []
    thread = client.get("/api/threads/t-1").json()
    assert [t["trace_id"] for t in thread["traces"]] == [_trace_id(n) for n in (1, 3, 5)]


def test_search_finds_events_and_attribute_values(client: Any) -> None:
    ingest(client, agent_trace())
    hits = client.get("/api/search", params={"q": "nested"}).json()["hits"]
    assert hits == []  # keys are not searched, values are
    hits = client.get("/api/search", params={"q": "weather lisbon"}).json()["hits"]
    assert [(h["trace_id"], h["span_id"]) for h in hits] == [(TRACE, ROOT)]
    assert "Lisbon" in hits[0]["snippet"]
    hits = client.get("/api/search", params={"q": "tool says"}).json()["hits"]
    assert hits[0]["event"] == "tool says hi"
    assert hits[0]["timestamp"] == "2026-11-24T12:00:00.100400Z"
    assert client.get("/api/search", params={"q": '"unbalanced AND ( OR'}).status_code == 200


def test_export_formats(client: Any) -> None:
    records = agent_trace()
    ingest(client, records)
    as_json = client.get(f"/api/traces/{TRACE}/export", params={"format": "json"})
    assert as_json.json() == records
    assert "attachment" in as_json.headers["content-disposition"]
    as_jsonl = client.get(f"/api/traces/{TRACE}/export", params={"format": "jsonl"}).text
    assert [json.loads(line) for line in as_jsonl.splitlines()] == records
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/traces/{TRACE}/export?format=csv").text)))
    assert [r["event"] for r in rows] == [r["event"] for r in records]
    assert json.loads(rows[4]["custom"]) == {"nested": ["x", 1]}
    assert client.get(f"/api/traces/{TRACE}/export?format=xml").status_code == 400


def test_delete_removes_everything_of_a_trace(client: Any) -> None:
    ingest(client, agent_trace())
    ingest(client, agent_trace(_trace_id(9)))
    assert client.delete(f"/api/traces/{TRACE}").json() == {"deleted": 7}
    assert client.get(f"/api/traces/{TRACE}").status_code == 404
    assert client.get("/api/search", params={"q": "lisbon"}).json()["hits"][0]["trace_id"] == _trace_id(9)
    assert client.delete(f"/api/traces/{TRACE}").status_code == 404
    assert client.get("/api/health").json()["records"] == 7


def test_health_and_openapi(client: Any, db_url: str) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["records"] == 0
    assert health["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    schema = client.get("/schema/openapi.json").json()
    assert "/api/ingest" in schema["paths"]
    assert "/api/traces/{trace_id}" in schema["paths"]


def test_ids_in_paths_are_validated_never_looked_up(client: Any) -> None:
    for bad in (
        "xyz",
        "4BF92F3577B34DA6A3CE929D0E0E4736",
        "0" * 32,
        TRACE + "0",
        "..%2F..%2Fetc%2Fpasswd",
        "%252e%252e%252f",
        "..",
        "4bf92f3577b34da6a3ce929d0e0e473%00",
    ):
        for path in (f"/api/traces/{bad}", f"/api/traces/{bad}/export"):
            response = client.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert response.status_code != 500
        assert client.delete(f"/api/traces/{bad}").status_code in (400, 404)
    assert client.get("/api/traces/xyz").status_code == 400
    assert client.get("/api/traces/xyz").json()["error"]
    assert client.get("/api/traces", params={"cursor": "not-a-cursor"}).status_code == 400
    assert client.get("/api/traces", params={"since": "yesterday"}).status_code == 400
    assert client.get("/api/traces", params={"status": "weird"}).status_code == 400
