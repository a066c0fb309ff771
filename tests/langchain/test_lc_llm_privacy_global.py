"""Streaming usage and time to first token, retrievers, privacy options, and global enable."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from lc_helpers import (
    MsgState,
    NumState,
    assert_all_closed,
    log_events,
    needs_async_config,
    react_agent,
    tree,
)

import aitrace_core
import aitrace_langchain
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel

SECRET = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ123456"


def _chat_graph(model: FakeChatModel) -> Any:
    def chatbot(state: MsgState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    g = StateGraph(MsgState)
    g.add_node("chatbot", chatbot)
    g.add_edge(START, "chatbot")
    return g.compile(name="chat")


@pytest.mark.parametrize(
    "mode", ["stream_messages", "model_stream", pytest.param("astream_events", marks=needs_async_config)]
)
async def test_streaming_keeps_usage_and_time_to_first_token(records: CapturedRecords, mode: str) -> None:
    model = FakeChatModel(responses=["one two three four five"], cached_tokens=1, reasoning_tokens=2)
    handler = AITraceHandler()
    cfg = RunnableConfig(callbacks=[handler])
    inp = {"messages": [HumanMessage("count to five")]}
    if mode == "stream_messages":
        chunks = list(_chat_graph(model).stream(inp, cfg, stream_mode="messages"))
        assert len(chunks) == 5
    elif mode == "model_stream":
        assert (
            "".join(str(c.content) for c in model.stream("count to five", cfg)) == "one two three four five"
        )
    else:
        async for _ in _chat_graph(model).astream_events(inp, cfg, version="v2"):
            pass
    llm = records.one("chat fake-chat-1")
    end = llm.end
    assert end is not None
    assert end["llm.streamed"] is True
    assert 0 <= end["llm.time_to_first_token_ms"] <= end["duration_ms"]
    assert end["gen_ai.usage.input_tokens"] == 3
    assert end["gen_ai.usage.output_tokens"] == 7  # five words plus two reasoning tokens
    assert end["gen_ai.usage.cache_read.input_tokens"] == 1
    assert end["gen_ai.usage.reasoning.output_tokens"] == 2
    assert end["gen_ai.response.finish_reasons"] == ["stop"]
    text = end["gen_ai.output.messages"][0]["parts"][0]["content"]
    assert text == "one two three four five"
    assert handler.open_runs == 0


def test_per_token_records_only_when_asked(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=["a b c"])
    list(model.stream("x", {"callbacks": [AITraceHandler()]}))
    assert records.events("llm_token") == []
    list(model.stream("x", {"callbacks": [AITraceHandler(log_tokens=True)]}))
    assert [r["token"] for r in records.events("llm_token")] == ["a ", "b ", "c"]


def test_unknown_model_has_no_cost(records: CapturedRecords) -> None:
    FakeChatModel(model_name="my-private-model").invoke("hi", {"callbacks": [AITraceHandler()]})
    end = records.one("chat my-private-model").end
    assert end is not None
    assert "gen_ai.usage.cost_usd" not in end
    assert end["gen_ai.usage.input_tokens"] == 1


class _Docs(BaseRetriever):
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document("x" * 10_000, metadata={"source": "big.txt"}, id="d1")] + [
            Document(f"doc {i}", metadata={"i": i}) for i in range(30)
        ]


def test_retriever_query_and_capped_documents(records: CapturedRecords) -> None:
    _Docs().invoke("what is x?", {"callbacks": [AITraceHandler(max_documents=5)]})
    view = records.one("_Docs")
    assert view.kind == "retriever"
    assert view.start["input"] == "what is x?"  # type: ignore[index]
    end = view.end
    assert end is not None
    assert end["retriever.documents.count"] == 31
    docs = end["output"]
    assert len(docs) == 5
    assert docs[0]["id"] == "d1"
    assert docs[0]["metadata"] == {"source": "big.txt"}
    assert "[aitrace cut:" in docs[0]["content"]
    assert len(docs[0]["content"]) < 5000


def test_secrets_are_redacted_in_inputs_outputs_tokens_and_errors(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=[f"your key is {SECRET}"])
    handler = AITraceHandler(log_tokens=True)
    list(model.stream(f"remember {SECRET}", {"callbacks": [handler]}, api_key="plain-value"))

    def leak(state: NumState) -> dict[str, Any]:
        raise RuntimeError(f"auth failed for {SECRET}")

    g = StateGraph(NumState)
    g.add_node("leak", leak)
    g.add_edge(START, "leak")
    with pytest.raises(RuntimeError, match="auth failed"):
        g.compile(name="leaky").invoke({"x": 0}, {"callbacks": [handler]})
    assert_all_closed(records)
    text = "\n".join(map(str, records))
    assert SECRET not in text
    assert "plain-value" not in text
    assert "[REDACTED]" in text
    leak_end = records.one("leak").end
    assert leak_end is not None
    assert leak_end["error.type"] == "RuntimeError"
    assert leak_end["error.message"] == "auth failed for [REDACTED]"
    assert "raise RuntimeError" in leak_end["error.stacktrace"]


def test_custom_redaction_patterns_and_keys(records: CapturedRecords) -> None:
    handler = AITraceHandler(redact_patterns=[r"\b\d{3}-\d{2}-\d{4}\b"], redact_keys=["ssn"])
    FakeChatModel(responses=["ok"]).invoke("my number is 123-45-6789", {"callbacks": [handler]})
    g = StateGraph(NumState)
    g.add_node("a", lambda s: {"x": 1})
    g.add_edge(START, "a")
    state: Any = {"x": 0, "ssn": "plain-ssn-value", "note": "kept"}
    g.compile(name="keys").invoke(state, {"callbacks": [handler]})
    text = "\n".join(map(str, records))
    assert "123-45-6789" not in text
    assert "my number is [REDACTED]" in text
    assert "plain-ssn-value" not in text  # the custom key hides its value wherever it appears
    graph_input = records.one("keys").start["input"]  # type: ignore[index]
    assert graph_input["ssn"] == "[REDACTED]"
    assert graph_input["note"] == "kept"  # other keys are untouched


def test_hide_inputs_and_outputs(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=["the hidden answer"])
    handler = AITraceHandler(hide_inputs=True, hide_outputs=True, log_tokens=True)
    list(
        _chat_graph(model).stream(
            {"messages": [HumanMessage("the hidden question")]},
            {"callbacks": [handler]},
            stream_mode="messages",
        )
    )
    text = "\n".join(map(str, records))
    assert "hidden question" not in text
    assert "hidden answer" not in text
    assert records.events("llm_token") == []
    llm = records.one("chat fake-chat-1").end
    assert llm is not None
    assert llm["gen_ai.usage.output_tokens"] == 3  # metadata stays
    assert "input" not in records.one("chat").start  # type: ignore[operator]


def test_instrument_traces_every_run_and_uninstrument_stops(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=["hi"])
    handler = aitrace_langchain.instrument()
    try:
        assert aitrace_langchain.is_instrumented()
        model.invoke("hello")
        # a run that passes its own handler does not get a second one
        model.invoke("hello", {"callbacks": [AITraceHandler()]})
    finally:
        aitrace_langchain.uninstrument()
    model.invoke("hello")
    assert not aitrace_langchain.is_instrumented()
    assert len(records.by_name("chat fake-chat-1")) == 2
    assert handler.open_runs == 0


def test_environment_variable_enables_tracing(
    records: CapturedRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeChatModel(responses=["hi"])
    monkeypatch.setenv("AITRACE_LANGCHAIN_TRACING", "true")
    model.invoke("hello")
    monkeypatch.setenv("AITRACE_LANGCHAIN_TRACING", "false")
    model.invoke("hello")
    assert len(records.by_name("chat fake-chat-1")) == 1


def test_user_log_lines_inside_an_llm_call_carry_its_span(records: CapturedRecords) -> None:
    log = aitrace_core.get_logger("tests.provider")

    def respond(messages: list[Any]) -> str:
        log.info("provider request")  # as an HTTP client instrumentation would log
        return "ok"

    FakeChatModel(respond=respond).invoke("hi", {"callbacks": [AITraceHandler()]})
    assert log_events(records.one("chat fake-chat-1")) == ["provider request"]


async def test_instrument_traces_async_agents_on_every_python_version(records: CapturedRecords) -> None:
    """Global enable adds the handler wherever LangChain configures callbacks, and a run LangChain could
    not parent (config lost in an asyncio task on Python < 3.11) nests under the current span."""
    handler = aitrace_langchain.instrument()
    try:
        await react_agent().ainvoke({"messages": [HumanMessage("What are 1+2 and 3*4?")]})
    finally:
        aitrace_langchain.uninstrument()
    assert_all_closed(records)
    graph = records.one("calc_agent")
    nodes = tree(records, graph)[2]
    assert sorted(n[0] for n in nodes) == ["node:model", "node:model", "node:tools", "node:tools"]
    for name, _status, children in nodes:
        if name == "node:model":
            assert [c[0] for c in children] == ["llm:chat fake-chat-1"]
    assert handler.open_runs == 0
