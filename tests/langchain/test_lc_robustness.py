"""Tracing never breaks the application: handler failures, no leftover state, no detach noise, sampling."""

from __future__ import annotations

import collections
import gc
import logging
from typing import Any
from uuid import uuid4

import pytest
from langchain_core.messages import HumanMessage
from langgraph.graph import START, StateGraph
from lc_helpers import NumState, assert_all_closed, react_agent, tree

import aitrace_core
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler


class _Exploding:
    """Stands in for the handler's shaper: every use raises."""

    redactor = None

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("mapper bug")


class _FailsOnToolInputs:
    """The handler's own shaper, except that shaping a tool's arguments raises (an odd input type)."""

    def __init__(self, shaper: Any) -> None:
        self._shaper = shaper

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shaper, name)

    def value(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"a", "b"}:
            raise RuntimeError("mapper bug")
        return self._shaper.value(value, *args, **kwargs)


@pytest.mark.parametrize("failing", ["everything", "tool inputs"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_handler_failures_never_reach_the_application(
    records: CapturedRecords, caplog: pytest.LogCaptureFixture, mode: str, failing: str
) -> None:
    handler = AITraceHandler()
    shaper = _Exploding() if failing == "everything" else _FailsOnToolInputs(handler.shaper)
    handler.shaper = shaper  # type: ignore[assignment]
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
    assert handler.open_runs == 0
    # the application's own lines are written whatever the handler does
    assert len(records.events("adding")) == len(records.events("multiplying")) == 2
    if failing == "tool inputs":
        # the rest of each run is traced, and every span it started is closed
        roots = records.by_name("calc_agent")
        assert len(roots) == 2
        assert all(root.status == "ok" for root in roots)
        assert len(records.by_name("model")) == 4, tree(records)  # the agent's model node, twice a run
    assert_all_closed(records)  # whatever was written is well-formed


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


class _FailsOnToolOutputs(_FailsOnToolInputs):
    """The handler's own shaper, except that shaping a tool's result ("3", "12") raises."""

    def value(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if value in ("3", "12"):
            raise RuntimeError("mapper bug")
        return self._shaper.value(value, *args, **kwargs)


def test_a_failing_output_costs_the_output_not_the_span_end(records: CapturedRecords) -> None:
    handler = AITraceHandler()
    handler.shaper = _FailsOnToolOutputs(handler.shaper)  # type: ignore[assignment]
    out = react_agent().invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [handler]})
    assert out["messages"][-1].content == "The sum is 3 and the product is 12."
    assert handler.open_runs == 0
    assert_all_closed(records)
    assert {v.status for v in records.spans().values() if v.name} == {"ok"}


def _tracing_objects() -> collections.Counter[str]:
    """Live objects of aitrace's and OpenTelemetry's classes (spans, proxies, runs, handles), by type."""
    gc.collect()
    return collections.Counter(
        f"{module}.{t.__qualname__}"
        for t in map(type, gc.get_objects())
        if isinstance(module := t.__dict__.get("__module__"), str)
        and module.startswith(("aitrace_core", "aitrace_langchain", "opentelemetry"))
    )


def test_no_reference_to_finished_runs_survives(records: CapturedRecords) -> None:
    """Finished runs leave nothing behind (spans, proxies, run state): memory stays flat in long-running
    apps. A real agent, so that LangChain's own context copies are part of it."""
    handler = AITraceHandler()
    agent = react_agent()
    for _ in range(2):  # warm-up: first-use caches
        agent.invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [handler]})
    before = _tracing_objects()
    for _ in range(20):
        agent.invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [handler]})
    grown = {name: n - before[name] for name, n in _tracing_objects().items() if n - before[name] >= 20}
    assert handler.open_runs == 0
    assert len(records.by_name("calc_agent")) == 22
    assert not grown, f"kept per run: {grown}"


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
