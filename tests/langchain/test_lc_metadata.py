"""The user's LangChain metadata is on the span that got it: all on the root, what changes on children."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from lc_helpers import NumState, react_agent

from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel


def test_graph_metadata_is_on_the_root_and_children_do_not_repeat_it(records: CapturedRecords) -> None:
    react_agent().invoke(
        {"messages": [HumanMessage("What are 1+2 and 3*4?")]},
        {
            "callbacks": [AITraceHandler()],
            "metadata": {"user_id": "u42", "plan": {"tier": "pro", "seats": 3}},
            "configurable": {"thread_id": "t-1"},
        },
    )
    root = records.one("calc_agent")
    assert root.start["metadata"] == {"user_id": "u42", "plan": {"tier": "pro", "seats": 3}}  # type: ignore[index]
    assert root.start["thread_id"] == "t-1"  # type: ignore[index]
    children = [v for v in records.spans().values() if v.span_id != root.span_id and v.start is not None]
    assert len(children) >= 7
    assert [v.name for v in children if "metadata" in v.start] == []  # type: ignore[operator]


def test_metadata_a_child_adds_or_changes_is_on_the_child(records: CapturedRecords) -> None:
    lookup = RunnableLambda(lambda x: x, name="lookup")

    def node(state: NumState) -> dict[str, Any]:
        lookup.invoke(1, {"metadata": {"source": "cache", "user_id": "u43"}})
        lookup.invoke(2)
        return {"x": 1}

    g = StateGraph(NumState)
    g.add_node("node", node)
    g.add_edge(START, "node")
    g.compile(name="g", checkpointer=InMemorySaver()).invoke(
        {"x": 0},
        {
            "callbacks": [AITraceHandler()],
            "metadata": {"user_id": "u42"},
            "configurable": {"thread_id": "t-2"},
        },
    )
    assert records.one("g").start["metadata"] == {"user_id": "u42"}  # type: ignore[index]
    assert "metadata" not in records.one("node").start  # type: ignore[operator]
    first, second = records.by_name("lookup")
    assert first.start["metadata"] == {"source": "cache", "user_id": "u43"}  # type: ignore[index]
    assert "metadata" not in second.start  # type: ignore[operator]


def test_internal_keys_are_left_out_and_odd_values_are_serialized(records: CapturedRecords) -> None:
    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.timezone.utc)
    key = uuid.UUID(int=7)
    model = FakeChatModel(responses=["hi"])
    model.invoke(
        "hello",
        {
            "callbacks": [AITraceHandler()],
            "metadata": {
                "request_id": key,
                "at": when,
                "tags": {"a"},
                "api_key": "sk-abcdefghijklmnopqrstuvwx",
            },
        },
    )
    llm = records.one("chat fake-chat-1")
    assert llm.start["metadata"] == {  # type: ignore[index]
        "request_id": str(key),
        "at": "2026-11-25T09:30:00+00:00",
        "tags": ["a"],
        "api_key": "[REDACTED]",
    }
    # the model's own ls_* metadata becomes its gen_ai fields, not user metadata
    assert llm.start["gen_ai.provider.name"] == "fake"  # type: ignore[index]


def test_no_metadata_no_field(records: CapturedRecords) -> None:
    RunnableLambda(lambda x: x, name="plain").invoke(1, {"callbacks": [AITraceHandler()]})
    assert "metadata" not in records.one("plain").start  # type: ignore[operator]
