"""LangGraph scenarios: subgraphs, Send, interrupts, Command.PARENT, errors, cancellation, user logs."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send
from lc_helpers import (
    MsgState,
    NumState,
    approval_graph,
    assert_all_closed,
    log_events,
    needs_async_config,
    subgraph_parent,
    tree,
)
from opentelemetry import trace

import aitrace_core
from aitrace_core import get_logger
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel

log = get_logger("tests.graph")


def _cfg(handler: AITraceHandler | None = None, **configurable: Any) -> RunnableConfig:
    config = RunnableConfig(callbacks=[handler or AITraceHandler()])
    if configurable:
        config["configurable"] = configurable
    return config


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_subgraph_nests_under_its_node(records: CapturedRecords, mode: str) -> None:
    graph = subgraph_parent()
    if mode == "sync":
        graph.invoke({"x": 0}, _cfg())
    else:
        await graph.ainvoke({"x": 0}, _cfg())
    assert_all_closed(records)
    assert tree(records) == [
        (
            "graph:outer",
            "ok",
            [
                ("node:first", "ok", [("edge:edge from first", "ok", [])]),
                ("node:inner", "ok", [("graph:inner", "ok", [("node:inner_step", "ok", [])])]),
            ],
        )
    ]
    inner_node = records.by_name("inner")
    sub_graph = next(v for v in inner_node if v.kind == "graph")
    assert sub_graph.start["checkpoint_ns"].startswith("inner:")  # type: ignore[index]
    step = records.one("inner_step")
    assert step.start["checkpoint_ns"].startswith("inner:")  # type: ignore[index]
    assert "|inner_step:" in step.start["checkpoint_ns"]  # type: ignore[index]
    assert log_events(step) == ["inside the subgraph"]
    assert log_events(records.one("first")) == ["first node"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_send_fan_out_each_branch_has_its_own_span_and_logs(
    records: CapturedRecords, mode: str
) -> None:
    def fan(state: NumState) -> list[Send]:
        return [Send("work", {"x": i}) for i in range(1, 6)]

    def work(state: NumState) -> dict[str, Any]:
        log.info("working", item=state["x"])
        return {"x": state["x"]}

    async def awork(state: NumState) -> dict[str, Any]:
        await asyncio.sleep(0)
        log.info("working", item=state["x"])
        return {"x": state["x"]}

    g = StateGraph(NumState)
    g.add_node("work", work if mode == "sync" else awork)
    g.add_conditional_edges(START, fan, ["work"])
    g.add_edge("work", END)
    graph = g.compile(name="fanout")
    if mode == "sync":
        graph.invoke({"x": 0}, _cfg())
    else:
        await graph.ainvoke({"x": 0}, _cfg())
    assert_all_closed(records)
    branches = records.by_name("work")
    assert len(branches) == 5
    root = records.one("fanout")
    assert {b.parent_span_id for b in branches} == {root.span_id}
    items = sorted(b.logs[0]["item"] for b in branches if len(b.logs) == 1)
    assert items == [1, 2, 3, 4, 5]


@needs_async_config
async def test_async_node_logs_after_awaiting_a_chain_stay_on_the_node(
    records: CapturedRecords, detach_errors: list[logging.LogRecord]
) -> None:
    model = FakeChatModel(responses=["summary"])
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model

    async def summarize(state: MsgState) -> dict[str, Any]:
        log.info("before the chain")
        reply = await chain.ainvoke({"q": "summarize"})
        log.info("after the chain")
        await model.ainvoke("again")
        log.info("after the model")
        return {"messages": [reply]}

    g = StateGraph(MsgState)
    g.add_node("summarize", summarize)
    g.add_edge(START, "summarize")
    graph = g.compile(name="summarizer")
    with aitrace_core.span("request") as req:
        await graph.ainvoke({"messages": [HumanMessage("hi")]}, _cfg())
        log.info("after the graph")
        assert trace.get_current_span().get_span_context().span_id == int(req.span_id, 16)
    node = records.one("summarize")
    assert log_events(node) == ["before the chain", "after the chain", "after the model"]
    assert log_events(records.one("request")) == ["after the graph"]
    # the chain inside the node keeps its own structure: sequence → prompt, model
    seq = records.one("RunnableSequence")
    assert seq.parent_span_id == node.span_id
    assert [records.spans()[c].kind for c in seq.children] == ["chain", "llm"]
    assert_all_closed(records)


def test_graph_invoked_inside_a_node_nests_under_it(records: CapturedRecords) -> None:
    inner = subgraph_parent()

    def caller(state: NumState) -> dict[str, Any]:
        out = inner.invoke({"x": 0})  # config propagates through the runnable context
        log.info("inner graph done")
        return {"x": out["x"]}

    g = StateGraph(NumState)
    g.add_node("caller", caller)
    g.add_edge(START, "caller")
    g.compile(name="host").invoke({"x": 0}, _cfg())
    node = records.one("caller")
    outer = records.one("outer")
    assert outer.parent_span_id == node.span_id
    assert log_events(node) == ["inner graph done"]
    assert_all_closed(records)


def test_stdlib_logging_inside_a_node_carries_the_node_span(records: CapturedRecords) -> None:
    bridge = aitrace_core.StdlibBridge()
    std = logging.getLogger("tests.stdlib")
    std.addHandler(bridge)
    std.setLevel(logging.INFO)
    try:

        def node(state: NumState) -> dict[str, Any]:
            std.info("plain logging here")
            with ThreadPoolExecutor(1) as pool:  # a thread of the user's own, with the context copied
                import contextvars

                ctx = contextvars.copy_context()
                pool.submit(ctx.run, std.info, "from a worker thread").result()
            return {"x": 1}

        g = StateGraph(NumState)
        g.add_node("node", node)
        g.add_edge(START, "node")
        g.compile(name="g").invoke({"x": 0}, _cfg())
    finally:
        std.removeHandler(bridge)
    assert log_events(records.one("node")) == ["plain logging here", "from a worker thread"]


# -- interrupts, commands, errors, cancellation --------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", pytest.param("async", marks=needs_async_config)])
async def test_interrupt_then_resume(records: CapturedRecords, mode: str) -> None:
    graph = approval_graph()
    handler = AITraceHandler()
    if mode == "sync":
        paused = graph.invoke({"x": 0}, _cfg(handler, thread_id="th-1"))
        resumed = graph.invoke(Command(resume="yes"), _cfg(handler, thread_id="th-1"))
    else:
        paused = await graph.ainvoke({"x": 0}, _cfg(handler, thread_id="th-1"))
        resumed = await graph.ainvoke(Command(resume="yes"), _cfg(handler, thread_id="th-1"))
    assert "__interrupt__" in paused
    assert resumed["x"] == 10
    assert_all_closed(records)
    first, second = records.by_name("approval")
    # the pause is not an error: the node and the graph are "interrupted", with the question
    ask_first = records.spans()[first.children[0]]
    assert (ask_first.name, ask_first.status) == ("ask", "interrupted")
    assert ask_first.end["langgraph.interrupt"][0]["value"] == {"question": "continue?"}  # type: ignore[index]
    assert first.status == "interrupted"
    assert first.end["langgraph.interrupt"][0]["value"] == {"question": "continue?"}  # type: ignore[index]
    assert not [r for r in records if r.get("status") == "error"]
    # the resume is a new trace, linked to the paused one by thread and link fields
    assert second.status == "ok"
    assert second.start["thread_id"] == first.start["thread_id"] == "th-1"  # type: ignore[index]
    assert second.start["langgraph.resume"] is True  # type: ignore[index]
    assert second.start["link.trace_id"] == first.start["trace_id"]  # type: ignore[index]
    assert second.start["link.span_id"] == first.span_id  # type: ignore[index]
    ask_second = records.spans()[second.children[0]]
    assert log_events(ask_second) == ["asking", "answered"]
    assert handler.open_runs == 0


def test_command_parent_is_control_flow_not_an_error(records: CapturedRecords) -> None:
    def hop(state: NumState) -> Command[Any]:
        return Command(graph=Command.PARENT, goto="done", update={"x": 1})

    sub = StateGraph(NumState)
    sub.add_node("hop", hop)
    sub.add_edge(START, "hop")
    child = sub.compile(name="child")

    def done(state: NumState) -> dict[str, Any]:
        return {"x": 1}

    g = StateGraph(NumState)
    g.add_node("child", child, destinations=("done",))
    g.add_node("done", done)
    g.add_edge(START, "child")
    g.add_edge("done", END)
    out = g.compile(name="parent").invoke({"x": 0}, _cfg())
    assert out["x"] >= 1
    assert_all_closed(records)
    hop_span = records.one("hop")
    assert hop_span.status == "interrupted"
    assert "langgraph.command" in hop_span.end  # type: ignore[operator]
    assert records.one("parent").status == "ok"
    assert records.one("done").status == "ok"
    assert not [r for r in records if r.get("status") == "error"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_node_error_marks_node_and_graph(records: CapturedRecords, mode: str) -> None:
    def boom(state: NumState) -> dict[str, Any]:
        log.warning("about to fail")
        raise ValueError("bad input: 42")

    g = StateGraph(NumState)
    g.add_node("boom", boom)
    g.add_edge(START, "boom")
    graph = g.compile(name="failing")
    if mode == "sync":
        with pytest.raises(ValueError, match="bad input"):
            graph.invoke({"x": 0}, _cfg())
    else:
        with pytest.raises(ValueError, match="bad input"):
            await graph.ainvoke({"x": 0}, _cfg())
    assert_all_closed(records)
    node = records.one("boom")
    assert node.status == "error"
    assert node.end["error.type"] == "ValueError"  # type: ignore[index]
    assert node.end["error.message"] == "bad input: 42"  # type: ignore[index]
    assert "raise ValueError" in node.end["error.stacktrace"]  # type: ignore[index]
    assert log_events(node) == ["about to fail"]
    assert records.one("failing").status == "error"


async def test_breaking_out_of_astream_cancels_and_closes_everything(records: CapturedRecords) -> None:
    async def slow(state: NumState) -> dict[str, Any]:
        return {"x": 1}

    g = StateGraph(NumState)
    g.add_node("a", slow)
    g.add_node("b", slow)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    graph = g.compile(name="early")
    handler = AITraceHandler()
    with aitrace_core.span("request") as req:
        stream: Any = graph.astream({"x": 0}, _cfg(handler))
        async for _chunk in stream:
            break
        await stream.aclose()
        assert trace.get_current_span().get_span_context().span_id == int(req.span_id, 16)
    assert_all_closed(records)
    assert records.one("early").status == "cancelled"
    assert records.one("early").end["error.type"] == "GeneratorExit"  # type: ignore[index]
    assert handler.open_runs == 0


def test_breaking_out_of_stream_sync(records: CapturedRecords) -> None:
    g = StateGraph(NumState)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", lambda s: {"x": 1})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    handler = AITraceHandler()
    stream: Any = g.compile(name="early").stream({"x": 0}, _cfg(handler))
    for _chunk in stream:
        break
    stream.close()
    assert_all_closed(records)
    assert records.one("early").status == "cancelled"
    assert handler.open_runs == 0


async def test_cancelled_task_is_cancelled_not_error(records: CapturedRecords) -> None:
    started = asyncio.Event()

    async def wait_forever(state: NumState) -> dict[str, Any]:
        started.set()
        await asyncio.Event().wait()
        return {"x": 1}

    g = StateGraph(NumState)
    g.add_node("wait", wait_forever)
    g.add_edge(START, "wait")
    handler = AITraceHandler()
    task = asyncio.create_task(g.compile(name="waiting").ainvoke({"x": 0}, _cfg(handler)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_all_closed(records)
    assert records.one("waiting").status == "cancelled"
    assert records.one("wait").status == "cancelled"
    assert handler.open_runs == 0


def test_runs_that_never_end_are_closed_by_their_root_as_incomplete(records: CapturedRecords) -> None:
    """A child whose end callback never arrives (a broken integration) is closed when its root ends."""
    from uuid import uuid4

    handler = AITraceHandler()
    root, child = uuid4(), uuid4()
    handler.on_chain_start(None, {"q": 1}, run_id=root, name="pipeline")
    handler.on_chain_start(None, {"q": 1}, run_id=child, parent_run_id=root, name="step")
    handler.on_chain_end({"ok": True}, run_id=root)
    assert_all_closed(records)
    step = records.one("step")
    assert step.end["incomplete"] is True  # type: ignore[index]
    assert step.status == "cancelled"
    assert records.one("pipeline").status == "ok"
    assert handler.open_runs == 0


def test_lcel_chain_names_and_kinds(records: CapturedRecords) -> None:
    model = FakeChatModel(responses=["hello"])
    chain = (
        ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{q}")])
        | model
        | RunnableLambda(lambda m: m.content, name="extract_text")
    )
    assert chain.invoke({"q": "hi"}, _cfg()) == "hello"
    assert tree(records) == [
        (
            "chain:RunnableSequence",
            "ok",
            [
                ("chain:ChatPromptTemplate", "ok", []),
                ("llm:chat fake-chat-1", "ok", []),
                ("chain:extract_text", "ok", []),
            ],
        )
    ]
    llm = records.one("chat fake-chat-1")
    assert llm.start["gen_ai.system_instructions"] == [{"type": "text", "content": "Be brief."}]  # type: ignore[index]
    assert llm.start["gen_ai.input.messages"][0]["role"] == "user"  # type: ignore[index]
