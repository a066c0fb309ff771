"""Other instrumentations in the same process: the real ``openai`` SDK, instrumented by OpenInference, against
a fake OpenAI-compatible server, inside a LangGraph graph traced by ``AITraceHandler``; read back through a
real ``aitrace serve``. And the two orders of installing a TracerProvider, each in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import httpx
import openai
import pytest
from conftest import wait_for
from fake_openai import COMPLETION_TOKENS, PROMPT_TOKENS, fake_openai
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from openinference.instrumentation.openai import OpenAIInstrumentor

import aitrace_core
from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class State(TypedDict):
    question: str
    answer: str


@pytest.fixture
def instrumented() -> Iterator[None]:
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument()
    try:
        yield
    finally:
        instrumentor.uninstrument()


def _span_fields(client: httpx.Client, trace_id: str, span_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/traces/{trace_id}/spans/{span_id}/records")
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = {}
    for record in answer.json()["records"]:
        if record["event"] in ("span_start", "span_end"):
            out.update(record)
    return out


def test_openai_sdk_calls_in_a_langgraph_node_nest_under_it_and_count_once(
    server_factory: Any, tmp_path: Path, instrumented: None
) -> None:
    server = server_factory(f"sqlite:///{tmp_path / 'inproc.db'}")
    aitrace_core.configure(service_name="agent", target=server.url, flush_interval=0.1)
    with fake_openai() as base_url:
        sdk = openai.OpenAI(base_url=base_url, api_key="not-a-key")
        model = ChatOpenAI(base_url=base_url, api_key="not-a-key", model="gpt-4o")  # type: ignore[arg-type]

        def direct(state: State) -> dict[str, str]:
            """Three calls straight through the SDK: plain, offering a tool, streamed."""
            plain = sdk.chat.completions.create(
                model="gpt-4o",
                messages=[
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": state["question"]},
                ],
            )
            sdk.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Weather in Oslo?"}],
                tools=[WEATHER_TOOL],  # type: ignore[list-item]
            )
            stream = sdk.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "stream please"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for _chunk in stream:
                pass
            return {"answer": plain.choices[0].message.content or ""}

        def via_langchain(state: State) -> dict[str, str]:
            """One call through LangChain's chat model, which calls the same SDK underneath."""
            return {"answer": str(model.invoke(state["question"]).content)}

        graph = StateGraph(State)
        graph.add_node("direct", direct)
        graph.add_node("via_langchain", via_langchain)
        graph.add_edge(START, "direct")
        graph.add_edge("direct", "via_langchain")
        graph.add_edge("via_langchain", END)
        graph.compile().invoke({"question": "What is OTLP?"}, config={"callbacks": [AITraceHandler()]})
    assert aitrace_core.flush(10)
    with httpx.Client(base_url=server.url, timeout=10) as client:

        def the_trace() -> dict[str, Any] | None:
            traces = client.get("/api/traces", params={"service": "agent"}).json()["traces"]
            done = [t for t in traces if t["status"] == "ok" and t["span_count"] >= 8]
            return done[0] if done else None

        summary = wait_for(the_trace, 20, "the graph's trace on the server")
        doc = client.get(f"/api/traces/{summary['trace_id']}/tree").json()
        spans = [dict(zip(doc["columns"], s, strict=True)) for s in doc["spans"]]
        for span in spans:
            span["parent"] = (
                spans[span["parent"]]["name"] if isinstance(span["parent"], int) else span["parent"]
            )
        sdk_spans = [s for s in spans if s["name"] == "ChatCompletion"]
        assert sorted(s["parent"] for s in sdk_spans) == ["chat gpt-4o", "direct", "direct", "direct"]
        assert all(s["kind"] == "llm" for s in sdk_spans)
        # four model calls, one of them seen twice (LangChain's span and the SDK's under it): counted once
        calls = 4
        assert summary["input_tokens"] == calls * PROMPT_TOKENS
        assert summary["output_tokens"] == calls * COMPLETION_TOKENS
        under_node = [s for s in sdk_spans if s["parent"] == "direct"]
        fields = [_span_fields(client, summary["trace_id"], s["span_id"]) for s in under_node]
        plain, tool, streamed = sorted(fields, key=lambda f: f["timestamp"])
        assert plain["gen_ai.request.model"] == "gpt-4o"
        assert [m["role"] for m in plain["gen_ai.input.messages"]] == ["system", "user"]
        assert plain["gen_ai.input.messages"][1]["parts"][0]["content"] == "What is OTLP?"
        assert plain["gen_ai.output.messages"][0]["parts"][0]["content"] == "fake answer to: What is OTLP?"
        assert (plain["gen_ai.usage.input_tokens"], plain["gen_ai.usage.output_tokens"]) == (21, 7)
        call = tool["gen_ai.output.messages"][0]["parts"][0]
        assert (call["type"], call["name"], call["arguments"]) == ("tool_call", "weather", {"city": "Oslo"})
        assert tool["gen_ai.response.finish_reasons"] == ["tool_calls"]
        assert streamed["gen_ai.output.messages"][0]["parts"][0]["content"] == "fake answer to: stream please"
        assert streamed["gen_ai.usage.output_tokens"] == COMPLETION_TOKENS


@pytest.mark.parametrize("capture", [True, False])
def test_capture_otel_spans_off_leaves_other_spans_out(capture: bool, instrumented: None) -> None:
    aitrace_core.configure(service_name="quiet", target="-", capture_otel_spans=capture)
    with capture_records() as records, fake_openai() as base_url, aitrace_core.span("outer"):
        openai.OpenAI(base_url=base_url, api_key="k").chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    names = [r["span_name"] for r in records if r["event"] == "span_start"]
    assert names == (["outer", "ChatCompletion"] if capture else ["outer"])


def _run(script: str, tmp_path: Path) -> tuple[list[dict[str, Any]], str, str]:
    """Run ``script`` in a fresh interpreter (the global TracerProvider can be set once per process);
    returns the records it wrote to ``out.jsonl``, its stdout and its stderr."""
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return records, done.stdout, done.stderr


_APP_PROVIDER = """
    import sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    import aitrace_core

    exported = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(exported))
"""
_WORK = """
    with aitrace_core.span("job"):
        with trace.get_tracer("app.db").start_as_current_span("SELECT invoices"):
            pass
    aitrace_core.shutdown()
    print(sorted(s.name for s in exported.get_finished_spans()))
"""


def test_app_provider_set_before_configure_gets_the_recorder_too(tmp_path: Path) -> None:
    records, stdout, _ = _run(
        _APP_PROVIDER
        + """
    trace.set_tracer_provider(app_provider)
    aitrace_core.configure(service_name="app", target=sys.argv[1])
    """
        + _WORK,
        tmp_path,
    )
    starts = [r for r in records if r["event"] == "span_start"]
    assert sorted(r["span_name"] for r in starts) == ["SELECT invoices", "job"]  # each once
    job = next(r for r in starts if r["span_name"] == "job")
    query = next(r for r in starts if r["span_name"] == "SELECT invoices")
    assert query["parent_span_id"] == job["span_id"]
    assert stdout.strip() == "['SELECT invoices', 'job']"  # the app's own exporter keeps working


def test_app_provider_set_after_configure_is_told_what_to_do(tmp_path: Path) -> None:
    records, stdout, stderr = _run(
        _APP_PROVIDER
        + """
    aitrace_core.configure(service_name="app", target=sys.argv[1])
    trace.set_tracer_provider(app_provider)
    """
        + _WORK,
        tmp_path,
    )
    assert "before aitrace's configure()" in stderr
    starts = [r for r in records if r["event"] == "span_start"]
    assert sorted(r["span_name"] for r in starts) == ["SELECT invoices", "job"]
    assert stdout.strip() == "[]"  # what the notice warns about: the app's provider never saw them
