"""A run's span is current only while LangChain executes inside it: batch, stream, and the caller between."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import START, StateGraph
from lc_helpers import MsgState, NumState, assert_all_closed, log_events, needs_async_config
from opentelemetry import trace

import aitrace_core
from aitrace_core import get_logger
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler, instrument, uninstrument
from aitrace_langchain.testing import FakeChatModel

log = get_logger("tests.caller")


def _cfg(handler: AITraceHandler) -> RunnableConfig:
    return RunnableConfig(callbacks=[handler])


def _two_step_graph(name: str) -> Any:
    def a(state: NumState) -> dict[str, Any]:
        log.info(f"in {name}.a")
        return {"x": 1}

    def b(state: NumState) -> dict[str, Any]:
        log.info(f"in {name}.b")
        return {"x": 1}

    g = StateGraph(NumState)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    return g.compile(name=name)


def _current_span_id() -> str:
    return f"{trace.get_current_span().get_span_context().span_id:016x}"


@pytest.mark.parametrize("how", ["batch", "abatch"])
async def test_batch_of_a_sequence_gives_sibling_roots(records: CapturedRecords, how: str) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | FakeChatModel(responses=["a", "b", "c"])
    handler = AITraceHandler()
    inputs = [{"q": "one"}, {"q": "two"}, {"q": "three"}]
    with aitrace_core.span("request") as req:
        if how == "batch":
            chain.batch(inputs, _cfg(handler))
        else:
            await chain.abatch(inputs, _cfg(handler))
        assert _current_span_id() == req.span_id
    assert_all_closed(records)
    sequences = records.by_name("RunnableSequence")
    assert len(sequences) == 3
    assert [s.parent_span_id for s in sequences] == [req.span_id] * 3
    for seq in sequences:  # each item keeps its own prompt and model under it
        assert sorted(records.spans()[c].kind or "" for c in seq.children) == ["chain", "llm"]
    assert handler.open_runs == 0


def test_batch_of_a_sequence_without_a_caller_span_gives_separate_traces(records: CapturedRecords) -> None:
    chain = RunnableLambda(lambda x: x + 1, name="inc") | RunnableLambda(lambda x: x * 2, name="dbl")
    assert chain.batch([1, 2, 3, 4], _cfg(AITraceHandler())) == [4, 6, 8, 10]
    sequences = records.by_name("RunnableSequence")
    assert len(sequences) == 4
    assert all(s.parent_span_id is None for s in sequences)
    assert len({s.start["trace_id"] for s in sequences}) == 4  # type: ignore[index]


def test_chat_model_generate_with_several_prompts_gives_sibling_roots(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=["a", "b", "c"])
    with aitrace_core.span("request") as req:
        model.generate(
            [[HumanMessage("one")], [HumanMessage("two")], [HumanMessage("three")]],
            callbacks=[AITraceHandler()],
        )
        log.info("after generate")
    llms = [v for v in records.spans().values() if v.kind == "llm"]
    assert len(llms) == 3
    assert [v.parent_span_id for v in llms] == [req.span_id] * 3
    assert log_events(records.one("request")) == ["after generate"]


@pytest.mark.parametrize("mode", ["sync", pytest.param("async", marks=needs_async_config)])
async def test_caller_logs_between_stream_chunks_stay_on_the_caller(
    records: CapturedRecords, detach_errors: list[logging.LogRecord], mode: str
) -> None:
    graph = _two_step_graph("first")
    second = _two_step_graph("second")
    handler = AITraceHandler()
    seen: list[str] = []
    with aitrace_core.span("request") as req:
        if mode == "sync":
            for i, _chunk in enumerate(graph.stream({"x": 0}, _cfg(handler))):
                seen.append(_current_span_id())
                log.info("between chunks", i=i)
                if i == 0:
                    second.invoke({"x": 0}, _cfg(handler))
        else:
            i = 0
            async for _chunk in graph.astream({"x": 0}, _cfg(handler)):
                seen.append(_current_span_id())
                log.info("between chunks", i=i)
                if i == 0:
                    await second.ainvoke({"x": 0}, _cfg(handler))
                i += 1
        log.info("after the stream")
    assert_all_closed(records)
    assert seen == [req.span_id, req.span_id]
    assert log_events(records.one("request")) == ["between chunks", "between chunks", "after the stream"]
    first, other = records.one("first"), records.one("second")
    assert first.parent_span_id == req.span_id
    assert other.parent_span_id == req.span_id  # a separate run, not nested under the streaming graph
    # the nodes' own log lines still land on their nodes
    spans = records.spans()
    for g, name in ((first, "first"), (other, "second")):
        nodes = [spans[c] for c in g.children]
        assert [log_events(n) for n in nodes] == [[f"in {name}.a"], [f"in {name}.b"]]
    assert handler.open_runs == 0


async def test_caller_logs_between_astream_events_stay_on_the_caller(
    records: CapturedRecords, detach_errors: list[logging.LogRecord]
) -> None:
    handler = AITraceHandler()
    second = _two_step_graph("second")
    with aitrace_core.span("request") as req:
        n = 0
        async for event in _two_step_graph("first").astream_events({"x": 0}, _cfg(handler), version="v2"):
            if event["event"] == "on_chain_stream" and event["name"] == "first":
                assert _current_span_id() == req.span_id
                log.info("between events")
                if n == 0:
                    await second.ainvoke({"x": 0}, _cfg(handler))
                n += 1
    assert n == 2
    assert log_events(records.one("request")) == ["between events", "between events"]
    assert records.one("second").parent_span_id == req.span_id
    assert records.one("first").parent_span_id == req.span_id
    assert_all_closed(records)


def test_stream_outside_any_span_leaves_the_callers_lines_out_of_the_graph(records: CapturedRecords) -> None:
    graph = _two_step_graph("g")
    for _chunk in graph.stream({"x": 0}, _cfg(AITraceHandler())):
        assert not trace.get_current_span().get_span_context().is_valid
        log.info("between chunks")
    graph_trace = records.one("g").start["trace_id"]  # type: ignore[index]
    between = records.events("between chunks")
    assert len(between) == 2
    assert all(r["trace_id"] != graph_trace for r in between)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_node_logs_between_a_models_stream_chunks_stay_on_the_node(
    records: CapturedRecords, detach_errors: list[logging.LogRecord], mode: str
) -> None:
    model = FakeChatModel(responses=["three little words"])
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model

    def node(state: MsgState) -> dict[str, Any]:
        for _chunk in model.stream("hello"):
            log.info("model chunk")
        for _chunk in chain.stream({"q": "hello"}):
            log.info("chain chunk")
        return {"messages": []}

    async def anode(state: MsgState) -> dict[str, Any]:
        async for _chunk in model.astream("hello"):
            log.info("model chunk")
        async for _chunk in chain.astream({"q": "hello"}):
            log.info("chain chunk")
        return {"messages": []}

    g = StateGraph(MsgState)
    g.add_node("node", node if mode == "sync" else anode)
    g.add_edge(START, "node")
    graph = g.compile(name="streamer")
    if mode == "sync":
        graph.invoke({"messages": []}, _cfg(AITraceHandler()))
    else:
        await graph.ainvoke({"messages": []}, _cfg(AITraceHandler()))
    assert_all_closed(records)
    events = log_events(records.one("node"))
    assert events.count("model chunk") >= 2
    assert events.count("chain chunk") >= 2
    assert set(events) == {"model chunk", "chain chunk"}
    for view in records.spans().values():
        if view.kind in ("llm", "chain"):
            assert view.logs == []


def test_trace_as_chain_group_is_current_inside_its_block(records: CapturedRecords) -> None:
    from langchain_core.callbacks.manager import trace_as_chain_group

    step = RunnableLambda(lambda x: x + 1, name="step")
    instrument()  # a group is traced by the handlers LangChain's configure hooks add
    try:
        with aitrace_core.span("request") as req:
            with trace_as_chain_group("my group", inputs={"q": 1}) as group:
                log.info("inside the group")
                step.invoke(1, {"callbacks": group})
            log.info("after the group")
    finally:
        uninstrument()
    assert_all_closed(records)
    grp = records.one("my group")
    assert grp.parent_span_id == req.span_id
    assert log_events(grp) == ["inside the group"]
    assert records.one("step").parent_span_id == grp.span_id
    assert log_events(records.one("request")) == ["after the group"]
