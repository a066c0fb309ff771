"""OTLP in: the OpenTelemetry SDK's own exporters and OTLP/JSON bodies posted to ``/v1/traces`` and
``/v1/logs``, read back through the API; bad bodies answered with a 4xx, never a 500."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import wait_for
from opentelemetry import trace
from opentelemetry._logs import Logger, SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

TRACE_HEX = "5b8efff798038103d269b633813fc60c"


def _records(client: Any, trace_id: str, span_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/traces/{trace_id}/spans/{span_id}/records")
    assert answer.status_code == 200, answer.text
    records: list[dict[str, Any]] = answer.json()["records"]
    return records


def _fields(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A span's start and end records merged (what the lenses read)."""
    out: dict[str, Any] = {}
    for record in records:
        if record["event"] in ("span_start", "span_end"):
            out.update(record)
    return out


def _tree(client: Any, trace_id: str) -> dict[str, dict[str, Any]]:
    """``{span name: {column: value}}`` of a trace's tree, with ``parent`` as the parent's name (or id)."""
    answer = client.get(f"/api/traces/{trace_id}/tree")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    rows = [dict(zip(doc["columns"], span, strict=True)) for span in doc["spans"]]
    for row in rows:
        parent = row["parent"]
        row["parent"] = rows[parent]["name"] if isinstance(parent, int) else parent
    return {row["name"]: row for row in rows}


# -- the SDK's own exporters against a real server ---------------------------------------------------------


@pytest.fixture
def sdk(server_factory: Any, tmp_path: Any) -> Iterator[tuple[Any, TracerProvider, Logger]]:
    """A real ``aitrace serve`` and an SDK TracerProvider / LoggerProvider exporting OTLP/protobuf to it."""
    server = server_factory(f"sqlite:///{tmp_path / 'otlp.db'}")
    resource = Resource.create({"service.name": "billing-api", "deployment.environment": "test"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=server.url + "/v1/traces")))
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=server.url + "/v1/logs")))
    try:
        yield server, provider, logs.get_logger("billing")
    finally:
        provider.shutdown()
        logs.shutdown()


def test_sdk_exporters_land_as_one_tree_with_llm_fields_and_logs(sdk: Any) -> None:
    server, provider, logger = sdk
    tracer = provider.get_tracer("billing.handlers")
    with tracer.start_as_current_span("POST /invoice", kind=trace.SpanKind.SERVER) as root:
        with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
            llm.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.input_tokens": 31,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.cache_read.input_tokens": 4,
                    "gen_ai.response.finish_reasons": ("tool_calls",),
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "Total of invoice 17?"}]}]
                    ),
                    "gen_ai.output.messages": json.dumps(
                        [
                            {
                                "role": "assistant",
                                "parts": [
                                    {
                                        "type": "tool_call",
                                        "id": "call_9",
                                        "name": "sum",
                                        "arguments": {"n": 17},
                                    }
                                ],
                                "finish_reason": "tool_calls",
                            }
                        ]
                    ),
                    "billing.customer": "c-42",
                }
            )
            logger.emit(body="asked the model about invoice 17", severity_number=SeverityNumber.INFO)
        with tracer.start_as_current_span("load invoice") as failing:
            try:
                raise KeyError("invoice 17")
            except KeyError as exc:
                failing.record_exception(exc)
                failing.set_status(Status(StatusCode.ERROR, "no such invoice"))
        trace_id = f"{root.get_span_context().trace_id:032x}"
        llm_id = f"{llm.get_span_context().span_id:016x}"
    with httpx.Client(base_url=server.url, timeout=10) as client:
        _check_billing_trace(client, trace_id, llm_id)


def _check_billing_trace(client: httpx.Client, trace_id: str, llm_id: str) -> None:
    def arrived() -> bool:
        answer = client.get(f"/api/traces/{trace_id}")
        return answer.status_code == 200 and answer.json()["summary"]["span_count"] == 3

    wait_for(arrived, 20, "the trace on the server")
    summary = client.get(f"/api/traces/{trace_id}").json()["summary"]
    assert (summary["status"], summary["error_count"]) == ("ok", 1)
    assert summary["service"] == "billing-api"
    assert summary["root_name"] == "POST /invoice"
    assert (summary["input_tokens"], summary["output_tokens"]) == (31, 9)
    tree = _tree(client, trace_id)
    assert tree["chat gpt-4o-mini"]["parent"] == "POST /invoice"
    assert tree["chat gpt-4o-mini"]["kind"] == "llm"
    assert tree["load invoice"]["status"] == "error"
    records = _records(client, trace_id, llm_id)
    fields = _fields(records)
    assert fields["gen_ai.request.model"] == "gpt-4o-mini"
    assert fields["gen_ai.input.messages"][0]["parts"][0]["content"] == "Total of invoice 17?"
    assert fields["gen_ai.output.messages"][0]["parts"][0]["name"] == "sum"
    assert fields["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert fields["billing.customer"] == "c-42"  # an attribute nobody maps is kept as it came
    assert [r["event"] for r in records if r["event"] not in ("span_start", "span_end")] == [
        "asked the model about invoice 17"
    ]
    failing_id = tree["load invoice"]["span_id"]
    end = next(r for r in _records(client, trace_id, failing_id) if r["event"] == "span_end")
    assert end["error.type"] == "KeyError"
    assert "invoice 17" in end["error.stacktrace"]
    hits = client.get("/api/search", params={"q": "invoice"}).json()["hits"]
    assert any(h["trace_id"] == trace_id for h in hits)


# -- OTLP/JSON and bad bodies, in process -------------------------------------------------------------------


def _json_span(span_id: str, name: str, parent: str | None = None, **attrs: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE_HEX,
        "spanId": span_id,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": "1764072000000000000",
        "endTimeUnixNano": "1764072000250000000",
        "attributes": [
            {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
            for k, v in attrs.items()
        ],
        "status": {"code": 1},
    }
    if parent is not None:
        span["parentSpanId"] = parent
    return span


def _json_body(*spans: dict[str, Any], service: str = "rag-svc") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [
                    {"scope": {"name": "openinference.instrumentation.llama_index"}, "spans": list(spans)}
                ],
            }
        ]
    }


def test_otlp_json_openinference_spans_are_read_with_hex_ids(client: Any) -> None:
    body = _json_body(
        _json_span(
            "aaaaaaaaaaaaaaa1", "query", **{"openinference.span.kind": "CHAIN", "input.value": "why?"}
        ),
        _json_span(
            "aaaaaaaaaaaaaaa2",
            "ChatCompletion",
            "aaaaaaaaaaaaaaa1",
            **{
                "openinference.span.kind": "LLM",
                "llm.model_name": "llama-3-8b",
                "llm.input_messages.0.message.role": "system",
                "llm.input_messages.0.message.content": "Be brief.",
                "llm.input_messages.1.message.role": "user",
                "llm.input_messages.1.message.content": "why?",
                "llm.output_messages.0.message.role": "assistant",
                "llm.output_messages.0.message.content": "Because.",
                "llm.token_count.prompt": 12,
                "llm.token_count.completion": 3,
            },
        ),
    )
    answer = client.post("/v1/traces", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "partialSuccess" not in answer.json()
    tree = _tree(client, TRACE_HEX)
    assert tree["ChatCompletion"]["parent"] == "query"
    assert (tree["query"]["kind"], tree["ChatCompletion"]["kind"]) == ("chain", "llm")
    fields = _fields(_records(client, TRACE_HEX, "aaaaaaaaaaaaaaa2"))
    assert fields["service"] == "rag-svc"
    assert [m["role"] for m in fields["gen_ai.input.messages"]] == ["system", "user"]
    assert fields["gen_ai.output.messages"][0]["parts"][0]["content"] == "Because."
    assert (fields["gen_ai.usage.input_tokens"], fields["gen_ai.usage.output_tokens"]) == (12, 3)
    assert fields["gen_ai.request.model"] == "llama-3-8b"
    assert _fields(_records(client, TRACE_HEX, "aaaaaaaaaaaaaaa1"))["input"] == "why?"


def test_a_span_whose_parent_never_arrives_names_its_missing_parent(client: Any) -> None:
    body = _json_body(_json_span("bbbbbbbbbbbbbbb2", "orphan step", "bbbbbbbbbbbbbbb1"))
    answer = client.post("/v1/traces", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert _tree(client, TRACE_HEX)["orphan step"]["parent"] == "bbbbbbbbbbbbbbb1"  # an id: not in this trace


def _protobuf_body() -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    span = rs.scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(TRACE_HEX)
    span.span_id = bytes.fromhex("ccccccccccccccc1")
    span.name = "work"
    span.start_time_unix_nano = 1_764_072_000_000_000_000
    span.end_time_unix_nano = 1_764_072_000_100_000_000
    return request.SerializeToString()


def test_protobuf_gzip_answers_a_protobuf_response(client: Any) -> None:
    answer = client.post(
        "/v1/traces",
        content=gzip.compress(_protobuf_body()),
        headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    response = ExportTraceServiceResponse.FromString(answer.content)
    assert not response.HasField("partial_success")
    assert "work" in _tree(client, TRACE_HEX)


def test_bad_bodies_get_a_4xx_that_says_why(client: Any) -> None:
    whole = _protobuf_body()
    truncated = client.post(
        "/v1/traces", content=whole[: len(whole) - 5], headers={"content-type": "application/x-protobuf"}
    )
    assert truncated.status_code == 400, truncated.text
    assert "protobuf" in truncated.json()["error"]
    wrong_type = client.post("/v1/traces", content=whole, headers={"content-type": "application/xml"})
    assert wrong_type.status_code == 415
    bad_ids = _json_body(_json_span("not-hex-at-all!!", "x"))
    answer = client.post(
        "/v1/traces", content=json.dumps(bad_ids), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert "spans[0].spanId" in answer.json()["error"]
    assert "not hex" in answer.json()["error"]
    not_json = client.post("/v1/traces", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    bomb = gzip.compress(b"\0" * (25 * 1024 * 1024))
    too_big = client.post(
        "/v1/traces",
        content=bomb,
        headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
    )
    assert too_big.status_code == 413
    assert client.get("/api/traces").json()["traces"] == []  # nothing stored from any of them


def test_short_ids_are_rejected_in_partial_success_and_the_rest_stored(client: Any) -> None:
    body = _json_body(_json_span("dddddddddddddd01", "kept"), _json_span("dddd", "short id"))
    answer = client.post("/v1/traces", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"  # int64 in OTLP JSON is a string
    assert "short id" in partial["errorMessage"]
    assert list(_tree(client, TRACE_HEX)) == ["kept"]


def test_a_span_with_100000_attributes_is_stored_or_refused_by_name_never_a_500(client: Any) -> None:
    attrs = {f"attr.{i}": f"value {i}" for i in range(100_000)}
    body = _json_body(
        _json_span("eeeeeeeeeeeeeee1", "huge", **attrs), _json_span("eeeeeeeeeeeeeee2", "small")
    )
    answer = client.post("/v1/traces", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    tree = _tree(client, TRACE_HEX)
    assert "small" in tree
    if "huge" in tree:
        fields = _fields(_records(client, TRACE_HEX, "eeeeeeeeeeeeeee1"))
        assert fields["attr.99999"] == "value 99999"
    else:
        assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"
        assert "'huge'" in answer.json()["partialSuccess"]["errorMessage"]


def test_otlp_log_records_without_a_span_and_with_one(client: Any) -> None:
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "jobs"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1764072000000000000",
                                "severityNumber": 17,
                                "body": {"stringValue": "disk almost full"},
                                "traceId": TRACE_HEX,
                                "spanId": "fffffffffffffff1",
                            },
                            {"timeUnixNano": "1764072000000000000", "body": {"stringValue": "no span here"}},
                        ]
                    }
                ],
            }
        ]
    }
    answer = client.post("/v1/logs", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    records = _records(client, TRACE_HEX, "fffffffffffffff1")
    assert [(r["event"], r["level"], r["service"]) for r in records] == [
        ("disk almost full", "error", "jobs")
    ]
    hits = client.get("/api/search", params={"q": "here"}).json()["hits"]
    assert len(hits) == 1


def test_the_token_guards_otlp_too(server_factory: Any, tmp_path: Any) -> None:
    server = server_factory(f"sqlite:///{tmp_path / 't.db'}", ["--token", "s3cret"])
    headers = {"content-type": "application/x-protobuf"}
    refused = httpx.post(server.url + "/v1/traces", content=_protobuf_body(), headers=headers)
    assert refused.status_code == 401
    exporter = OTLPSpanExporter(
        endpoint=server.url + "/v1/traces", headers={"Authorization": "Bearer s3cret"}
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("with token") as span:
        trace_id = f"{span.get_span_context().trace_id:032x}"
    provider.shutdown()
    answer = httpx.get(server.url + f"/api/traces/{trace_id}", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 200


def test_a_busy_database_answers_503_retry_after_on_both_ingest_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: `/api/ingest` and `/v1/traces` both
    say "busy, retry" with Retry-After (the sender keeps the batch and tries again), never a 500, and store
    nothing; once the lock is gone the same bodies go in."""
    import sqlite3

    from aitrace_viewer.app import create_app
    from aitrace_viewer.settings import ViewerSettings
    from aitrace_viewer.store import _engine
    from conftest import BASE_URL, ingest, rec
    from litestar.testing import TestClient

    monkeypatch.setattr(_engine, "BUSY_TIMEOUT_MS", 200)
    db = tmp_path / "logs.db"
    job = {"span_name": "job", "span_kind": "function"}
    records = [
        rec("span_start", "b" * 16, "00.000100", **job),
        rec("span_end", "b" * 16, "00.000200", **job, status="ok", duration_ms=0.1),
    ]
    body = _json_body(_json_span("aaaaaaaaaaaaaaa9", "query"))
    with TestClient(create_app(ViewerSettings(db=f"sqlite:///{db}")), base_url=BASE_URL) as client:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            for res in (ingest(client, records), client.post("/v1/traces", json=body)):
                assert res.status_code == 503, res.text
                assert res.headers["retry-after"] == "1"
                assert "busy" in res.json()["error"]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert ingest(client, records).status_code == 200
        assert client.post("/v1/traces", json=body).status_code == 200
        assert client.get("/api/traces").json()["traces"]  # stored once the lock was gone
