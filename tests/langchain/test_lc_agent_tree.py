"""The ReAct agent's tree: graph → nodes → LLM / parallel tools, the same through every entry point."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from lc_helpers import assert_all_closed, log_events, needs_async_config, react_agent, tree
from opentelemetry import trace

import aitrace_core
from aitrace_core import auto_span, get_logger
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler

log = get_logger("tests.caller")

INPUT = {"messages": [HumanMessage("What are 1+2 and 3*4?")]}

EXPECTED: Any = (
    "graph:calc_agent",
    "ok",
    [
        ("node:model", "ok", [("llm:chat fake-chat-1", "ok", [])]),
        ("node:tools", "ok", [("tool:execute_tool add", "ok", [])]),
        ("node:tools", "ok", [("tool:execute_tool multiply", "ok", [])]),
        ("node:model", "ok", [("llm:chat fake-chat-1", "ok", [])]),
    ],
)


def _sorted_tree(node: Any) -> Any:
    """Parallel branches start in either order: compare children as a sorted list."""
    name, status, children = node
    return (name, status, sorted((_sorted_tree(c) for c in children), key=repr))


def _run_sync(agent: Any, how: str, config: dict[str, Any]) -> None:
    if how == "invoke":
        agent.invoke(INPUT, config)
    elif how == "stream":
        for _ in agent.stream(INPUT, config):
            pass
    elif how == "batch":
        agent.batch([INPUT], config)


async def _run_async(agent: Any, how: str, config: dict[str, Any]) -> None:
    if how == "ainvoke":
        await agent.ainvoke(INPUT, config)
    elif how == "astream":
        async for _ in agent.astream(INPUT, config):
            pass
    elif how == "astream_events":
        async for _ in agent.astream_events(INPUT, config, version="v2"):
            pass


def _check_agent_tree(records: CapturedRecords, handler: AITraceHandler) -> None:
    assert_all_closed(records)
    graph = records.one("calc_agent")
    assert _sorted_tree(tree(records, graph)) == _sorted_tree(EXPECTED)
    assert handler.open_runs == 0
    # the tools' own log lines sit under their tool spans
    for name, event in (("execute_tool add", "adding"), ("execute_tool multiply", "multiplying")):
        assert log_events(records.one(name)) == [event]
    # run ids ride along and chain parents by run id
    spans = records.spans()
    for view in spans.values():
        if (
            view.start is not None
            and view.start.get("logger") == "aitrace_langchain"
            and view.span_id != graph.span_id
        ):
            parent = spans[view.parent_span_id or ""]
            assert view.start["parent_run_id"] == parent.start["run_id"]  # type: ignore[index]


@pytest.mark.parametrize("how", ["invoke", "stream", "batch"])
def test_sync_entry_points_give_the_agent_tree(records: CapturedRecords, how: str) -> None:
    handler = AITraceHandler()
    _run_sync(react_agent(), how, {"callbacks": [handler]})
    _check_agent_tree(records, handler)


@needs_async_config
@pytest.mark.parametrize("how", ["ainvoke", "astream", "astream_events"])
async def test_async_entry_points_give_the_agent_tree(records: CapturedRecords, how: str) -> None:
    handler = AITraceHandler()
    await _run_async(react_agent(), how, {"callbacks": [handler]})
    _check_agent_tree(records, handler)


def test_handler_in_the_constructor_config(records: CapturedRecords) -> None:
    handler = AITraceHandler()
    agent = react_agent().with_config(callbacks=[handler])
    agent.invoke(INPUT)
    _check_agent_tree(records, handler)


def test_llm_span_has_messages_tokens_model_and_cost(records: CapturedRecords) -> None:
    react_agent().invoke(INPUT, {"callbacks": [AITraceHandler()]})
    first, second = records.by_name("chat fake-chat-1")
    start, end = first.start, first.end
    assert start is not None
    assert end is not None
    assert start["gen_ai.operation.name"] == "chat"
    assert start["gen_ai.provider.name"] == "fake"
    assert start["gen_ai.request.model"] == "fake-chat-1"
    assert start["gen_ai.request.temperature"] == 0.0
    assert {t["name"] for t in start["gen_ai.tool.definitions"]} == {"add", "multiply"}
    assert start["gen_ai.tool.definitions"][0]["parameters"]["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer"},
    }
    assert start["gen_ai.request.tools"] == ["add", "multiply"]
    # the second call offers the same tools: their names, the definitions are on the first call
    assert second.start["gen_ai.request.tools"] == ["add", "multiply"]  # type: ignore[index]
    assert "gen_ai.tool.definitions" not in second.start  # type: ignore[operator]
    assert start["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "What are 1+2 and 3*4?"}]}
    ]
    calls = [p for p in end["gen_ai.output.messages"][0]["parts"] if p["type"] == "tool_call"]
    assert [(c["name"], c["arguments"]) for c in calls] == [
        ("add", {"a": 1, "b": 2}),
        ("multiply", {"a": 3, "b": 4}),
    ]
    assert all(c["id"].startswith("call_") for c in calls)
    assert end["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert end["gen_ai.response.model"] == "fake-chat-1"
    assert end["gen_ai.usage.input_tokens"] > 0
    assert end["gen_ai.usage.output_tokens"] > 0
    assert (
        end["gen_ai.usage.total_tokens"]
        == end["gen_ai.usage.input_tokens"] + end["gen_ai.usage.output_tokens"]
    )
    assert end["gen_ai.usage.cache_read.input_tokens"] >= 1
    assert end["gen_ai.usage.reasoning.output_tokens"] == 1
    assert end["gen_ai.usage.cost_usd"] > 0
    # the second call sees the tool results, linked to the calls by id
    msgs = second.start["gen_ai.input.messages"]  # type: ignore[index]
    responses = [p for m in msgs for p in m["parts"] if p["type"] == "tool_call_response"]
    assert sorted(r["id"] for r in responses) == sorted(c["id"] for c in calls)
    assert second.end["gen_ai.response.finish_reasons"] == ["stop"]  # type: ignore[index]


def test_tool_span_has_name_call_id_input_and_output(records: CapturedRecords) -> None:
    react_agent().invoke(INPUT, {"callbacks": [AITraceHandler()]})
    add = records.one("execute_tool add")
    assert add.start is not None
    assert add.end is not None
    assert add.start["gen_ai.tool.name"] == "add"
    assert add.start["gen_ai.tool.description"] == "Add two integers."
    assert add.start["gen_ai.tool.call.id"].startswith("call_")
    assert add.start["input"] == {"a": 1, "b": 2}
    assert add.end["output"] == "3"
    assert add.end["tool.status"] == "success"


def test_node_spans_carry_langgraph_fields(records: CapturedRecords) -> None:
    react_agent().invoke(INPUT, {"callbacks": [AITraceHandler()], "configurable": {"thread_id": "t-42"}})
    graph = records.one("calc_agent")
    assert graph.start["thread_id"] == "t-42"  # type: ignore[index]
    assert graph.start["gen_ai.conversation.id"] == "t-42"  # type: ignore[index]
    tools = [v for v in records.by_name("tools")]
    assert len(tools) == 2
    for view in tools:
        start = view.start
        assert start is not None
        assert start["langgraph_node"] == "tools"
        assert start["langgraph_step"] == 2
        assert start["langgraph_path"][0] == "__pregel_push"  # one Send per tool call
        assert start["checkpoint_ns"].startswith("tools:")
        assert start["thread_id"] == "t-42"
    # each Send branch's input is the one tool call it runs
    assert sorted(v.start["input"][0]["name"] for v in tools) == ["add", "multiply"]  # type: ignore[index]


def test_graph_inside_auto_span_is_one_trace_and_the_caller_is_current_again(
    records: CapturedRecords,
) -> None:
    @auto_span("request")
    def request() -> None:
        before = trace.get_current_span().get_span_context()
        react_agent().invoke(INPUT, {"callbacks": [AITraceHandler()]})
        assert trace.get_current_span().get_span_context() == before
        log.info("after the graph")

    request()
    req = records.one("request")
    assert tree(records) == [tree(records, req)]
    assert len({r["trace_id"] for r in records}) == 1
    assert records.one("calc_agent").parent_span_id == req.span_id
    assert log_events(req) == ["after the graph"]


async def test_async_graph_inside_auto_span_leaves_no_stale_span(
    records: CapturedRecords, detach_errors: list[logging.LogRecord]
) -> None:
    @auto_span("request")
    async def request() -> None:
        before = trace.get_current_span().get_span_context()
        await react_agent().ainvoke(INPUT, {"callbacks": [AITraceHandler()]})
        assert trace.get_current_span().get_span_context() == before
        log.info("after the graph")

    await request()
    req = records.one("request")
    assert log_events(req) == ["after the graph"]
    assert records.one("calc_agent").parent_span_id == req.span_id
    assert len({r["trace_id"] for r in records}) == 1


async def test_200_concurrent_ainvokes_do_not_mix_trees(records: CapturedRecords) -> None:
    handler = AITraceHandler()
    agent = react_agent()

    async def one(i: int) -> str:
        with aitrace_core.span(f"request-{i}") as req:
            await agent.ainvoke(INPUT, {"callbacks": [handler]})
            log.info("done", i=i)
        return req.trace_id

    trace_ids = await asyncio.gather(*(one(i) for i in range(200)))
    assert len(set(trace_ids)) == 200
    assert_all_closed(records)
    assert handler.open_runs == 0
    spans = records.spans()
    by_trace: dict[str, list[Any]] = {}
    for view in spans.values():
        rec = view.start or view.end
        assert rec is not None
        by_trace.setdefault(rec["trace_id"], []).append(view)
    assert set(by_trace) == set(trace_ids)
    for i, trace_id in enumerate(trace_ids):
        views = by_trace[trace_id]
        names = sorted(v.name for v in views)
        assert names.count("execute_tool add") == 1
        assert names.count("calc_agent") == 1
        req = next(v for v in views if v.name and v.name.startswith("request-"))
        assert req.name == f"request-{i}"
        assert [r["i"] for r in req.logs] == [i]
        # every span of this trace hangs under this request
        ids = {v.span_id for v in views}
        assert all(v.parent_span_id in ids for v in views if v is not req)
