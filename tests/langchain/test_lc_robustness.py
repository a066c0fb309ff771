"""Tracing never breaks the application: handler failures, no leftover state, no detach noise, sampling."""

from __future__ import annotations

import gc
import logging
from typing import Any
from uuid import uuid4

import pytest
from langchain_core.messages import HumanMessage
from langgraph.graph import START, StateGraph
from lc_helpers import NumState, assert_all_closed, react_agent

import aitrace_core
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler


class _Exploding:
    """Stands in for the handler's shaper: every use raises."""

    redactor = None

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("mapper bug")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_handler_failures_never_reach_the_application(
    records: CapturedRecords, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    handler = AITraceHandler()
    handler.shaper = _Exploding()  # type: ignore[assignment]
    agent = react_agent()
    inp = {"messages": [HumanMessage("hi")]}
    caplog.set_level(logging.WARNING, logger="aitrace.langchain")
    if mode == "sync":
        out = agent.invoke(inp, {"callbacks": [handler]})
        again = agent.invoke(inp, {"callbacks": [handler]})
    else:
        out = await agent.ainvoke(inp, {"callbacks": [handler]})
        again = await agent.ainvoke(inp, {"callbacks": [handler]})
    assert out["messages"][-1].content == "The sum is 3 and the product is 12."
    assert again["messages"][-1].content == out["messages"][-1].content
    warnings = [r for r in caplog.records if r.name == "aitrace.langchain"]
    assert len(warnings) == 1  # rate-limited: one warning for many failures
    assert "failed" in warnings[0].getMessage()
    assert_all_closed(records)  # whatever was written is still well-formed


def test_maps_are_empty_after_many_runs(records: CapturedRecords) -> None:
    handler = AITraceHandler()
    g = StateGraph(NumState)
    g.add_node("a", lambda s: {"x": 1})
    g.add_edge(START, "a")
    graph = g.compile(name="tiny")
    for i in range(300):
        graph.invoke({"x": 0}, {"callbacks": [handler], "configurable": {"thread_id": f"t{i}"}})
    assert handler.open_runs == 0
    assert_all_closed(records)
    assert len(records.by_name("tiny")) == 300


def test_no_reference_to_finished_runs_survives(records: CapturedRecords) -> None:
    """Spans of finished runs are not kept alive by the handler (memory stays flat in long-running apps)."""
    import weakref

    from opentelemetry.sdk.trace import Span

    handler = AITraceHandler()
    react_agent().invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [handler]})
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, Span) and o.name == "calc_agent"]
    refs = [weakref.ref(o) for o in alive]
    del alive
    gc.collect()
    assert handler.open_runs == 0
    assert all(r() is None for r in refs)


def test_unknown_run_ids_are_ignored(records: CapturedRecords) -> None:
    handler = AITraceHandler()
    handler.on_chain_end({}, run_id=uuid4())
    handler.on_llm_end(None, run_id=uuid4())
    handler.on_tool_error(ValueError("x"), run_id=uuid4())
    handler.on_llm_new_token("x", run_id=uuid4())
    assert list(records) == []


def test_sampling_zero_writes_nothing_and_one_writes_everything(records: CapturedRecords) -> None:
    g = StateGraph(NumState)

    def node(state: NumState) -> dict[str, Any]:
        aitrace_core.get_logger("t").info("inside")
        return {"x": 1}

    g.add_node("a", node)
    g.add_edge(START, "a")
    graph = g.compile(name="sampled")
    dropped = AITraceHandler(sample_ratio=0.0)
    for _ in range(5):
        assert graph.invoke({"x": 0}, {"callbacks": [dropped]})["x"] == 1
    assert list(records) == []  # spans and the user's lines inside them: the whole trace is dropped
    assert dropped.open_runs == 0
    graph.invoke({"x": 0}, {"callbacks": [AITraceHandler(sample_ratio=1.0)]})
    assert len(records.by_name("sampled")) == 1


def test_sample_ratio_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_LANGCHAIN_SAMPLE_RATIO", "0.25")
    monkeypatch.setenv("AITRACE_LANGCHAIN_HIDE_INPUTS", "true")
    handler = AITraceHandler()
    assert handler.sample_ratio == 0.25
    assert handler.hide_inputs is True
    assert AITraceHandler(sample_ratio=1.0, hide_inputs=False).hide_inputs is False


def test_ten_thousand_runs_leave_no_state_and_memory_stays_flat() -> None:
    """Drives the callbacks directly (a root with two children per run) into a sink that keeps nothing."""
    from aitrace_core._runtime import runtime

    class _Discard:
        def write(self, line: bytes) -> bool:
            return True

    handler = AITraceHandler()
    inputs = {"messages": [HumanMessage("hello", id="m1")], "thread": "t"}

    def one_run() -> None:
        root, node, tool = uuid4(), uuid4(), uuid4()
        md = {"langgraph_node": "n", "langgraph_step": 1, "thread_id": "t"}
        handler.on_chain_start(None, inputs, run_id=root, name="g", metadata={"ls_integration": "langgraph"})
        handler.on_chain_start(
            None, inputs, run_id=node, parent_run_id=root, name="n", tags=["graph:step:1"], metadata=md
        )
        handler.on_tool_start({"name": "t"}, "x", run_id=tool, parent_run_id=node, tool_call_id="c1")
        handler.on_tool_end("result", run_id=tool)
        handler.on_chain_end({"x": 1}, run_id=node)
        handler.on_chain_end({"x": 1}, run_id=root)

    saved = runtime.sink, runtime.configured
    runtime.sink, runtime.configured = _Discard(), True
    try:
        for _ in range(2_000):
            one_run()
        gc.collect()
        before = len(gc.get_objects())
        for _ in range(8_000):
            one_run()
        gc.collect()
        grown = len(gc.get_objects()) - before
    finally:
        runtime.sink, runtime.configured = saved
    assert handler.open_runs == 0
    assert grown < 500, f"{grown} objects kept after 8,000 more runs"
