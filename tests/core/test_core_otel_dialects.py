"""OpenTelemetry spans of each attribute dialect → records: the fields the LLM lens reads, valid records."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from aitrace_core import OtelSpan, otel_span_records, record_schema

T0 = 1_764_072_000_000_000_000


def _span(attrs: dict[str, Any], **over: Any) -> OtelSpan:
    fields: dict[str, Any] = {
        "trace_id": 0x5B8EFFF798038103D269B633813FC60C,
        "span_id": 0x1111111111111111,
        "parent_span_id": 0x2222222222222222,
        "name": "llm call",
        "start_ns": T0,
        "end_ns": T0 + 1_500_000,
        "attributes": attrs,
        "resource": {"service.name": "py-svc", "host.name": "box"},
        "scope": "some.instrumentation",
    }
    fields.update(over)
    return OtelSpan(**fields)


def _merged(span: OtelSpan) -> dict[str, Any]:
    records = otel_span_records(span)
    schema = record_schema()
    for record in records:
        jsonschema.validate(record, schema)
    out: dict[str, Any] = {}
    for record in records:
        if record["event"] in ("span_start", "span_end"):
            out.update(record)
    return out


def test_older_indexed_genai_prompt_and_completion_with_tool_calls() -> None:
    fields = _merged(
        _span(
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "weather?",
                "gen_ai.prompt.1.role": "assistant",
                "gen_ai.prompt.1.tool_calls.0.id": "call_1",
                "gen_ai.prompt.1.tool_calls.0.name": "weather",
                "gen_ai.prompt.1.tool_calls.0.arguments": '{"city": "Oslo"}',
                "gen_ai.prompt.2.role": "tool",
                "gen_ai.prompt.2.tool_call_id": "call_1",
                "gen_ai.prompt.2.content": "sunny",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "It is sunny.",
                "gen_ai.completion.0.finish_reason": "stop",
                "gen_ai.usage.prompt_tokens": 40,
                "gen_ai.usage.completion_tokens": 5,
                "llm.usage.total_tokens": 45,
            }
        )
    )
    assert fields["span_kind"] == "llm"
    assert fields["gen_ai.provider.name"] == "openai"
    user, assistant, tool = fields["gen_ai.input.messages"]
    assert user == {"role": "user", "parts": [{"type": "text", "content": "weather?"}]}
    assert assistant["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Oslo"}}
    ]
    assert tool["parts"] == [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}]
    assert fields["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "It is sunny."}], "finish_reason": "stop"}
    ]
    assert (fields["gen_ai.usage.input_tokens"], fields["gen_ai.usage.output_tokens"]) == (40, 5)
    assert fields["gen_ai.usage.total_tokens"] == 45
    assert not any(k.startswith("gen_ai.prompt.") for k in fields)  # rewritten, not kept twice


def test_current_genai_messages_system_instructions_and_cached_tokens() -> None:
    system = [{"type": "text", "content": "Answer in French."}]
    inputs = [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]
    fields = _merged(
        _span(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "mistral-small",
                "gen_ai.system_instructions": json.dumps(system),
                "gen_ai.input.messages": json.dumps(inputs),
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.cache_read.input_tokens": 8,
            }
        )
    )
    assert fields["gen_ai.system_instructions"] == system
    assert fields["gen_ai.input.messages"] == inputs
    assert fields["gen_ai.usage.cache_read.input_tokens"] == 8


def test_openllmetry_workflow_and_tool_spans() -> None:
    workflow = _merged(
        _span(
            {
                "traceloop.span.kind": "workflow",
                "traceloop.entity.name": "answer_question",
                "traceloop.entity.input": json.dumps({"question": "why?"}),
                "traceloop.entity.output": json.dumps({"answer": "because"}),
            },
            name="answer_question.workflow",
        )
    )
    assert workflow["span_kind"] == "chain"
    assert workflow["input"] == {"question": "why?"}
    assert workflow["output"] == {"answer": "because"}
    assert workflow["traceloop.entity.name"] == "answer_question"  # not mapped: kept
    tool = _merged(
        _span({"traceloop.span.kind": "tool", "traceloop.entity.name": "search"}, name="search.tool")
    )
    assert tool["span_kind"] == "tool"


def test_openinference_tool_and_retriever_kinds_and_session() -> None:
    tool = _merged(
        _span(
            {"openinference.span.kind": "TOOL", "tool.name": "calculator", "session.id": "conv-7"},
            name="calc",
        )
    )
    assert (tool["span_kind"], tool["gen_ai.tool.name"]) == ("tool", "calculator")
    assert tool["gen_ai.conversation.id"] == "conv-7"
    assert _merged(_span({"openinference.span.kind": "RETRIEVER"}))["span_kind"] == "retriever"


def test_values_of_the_wrong_type_are_kept_under_another_name_and_records_stay_valid() -> None:
    fields = _merged(
        _span(
            {
                "gen_ai.request.model": 42,
                "gen_ai.usage.input_tokens": -3,
                "gen_ai.response.finish_reasons": "stop",
                "status": "weird",
                "span_id": "not mine",
            }
        )
    )
    assert fields["otel.gen_ai.request.model"] == 42
    assert fields["otel.gen_ai.usage.input_tokens"] == -3
    assert fields["gen_ai.response.finish_reasons"] == ["stop"]
    assert fields["attributes.status"] == "weird"
    assert fields["status"] == "ok"
    assert fields["span_id"] == "1111111111111111"


def test_status_exception_events_links_and_resource() -> None:
    span = _span(
        {"http.route": "/invoice"},
        kind="SERVER",
        status_code="ERROR",
        status_message="boom",
        events=[
            ("cache miss", T0 + 10, {"key": "k1"}),
            (
                "exception",
                T0 + 20,
                {"exception.type": "ValueError", "exception.message": "bad", "exception.stacktrace": "tb"},
            ),
        ],
        links=[(0xABC, 0xDEF, {"reason": "retry of"})],
    )
    records = otel_span_records(span)
    assert [r["event"] for r in records] == ["span_start", "cache miss", "exception", "span_end"]
    start, end = records[0], records[-1]
    assert (start["service"], start["span_kind"], start["otel.span_kind"]) == ("py-svc", "server", "SERVER")
    assert start["otel.resource"] == {"host.name": "box"}
    assert (end["status"], end["error.type"], end["error.message"]) == ("error", "ValueError", "bad")
    assert end["duration_ms"] == pytest.approx(1.5)
    assert end["otel.links"] == [
        {"trace_id": f"{0xABC:032x}", "span_id": f"{0xDEF:016x}", "attributes": {"reason": "retry of"}}
    ]
    assert records[1]["key"] == "k1"
