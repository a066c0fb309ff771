"""Each message written once per trace: sizes, and references resolving to the un-deduplicated records."""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

import pytest
from history_agent import WORDS, history, react_agent
from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Send

import aitrace_core
from aitrace_core import Limits, resolve_refs
from aitrace_core.testing import CapturedRecords, capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel

SECRET = "sk-proj-" + "Q" * 32


def _history(pairs: int, secret: str | None = None) -> list[BaseMessage]:
    def plant(i: int, question: str) -> str:
        return f"my key is {secret} " + question if secret is not None and i == pairs // 2 else question

    return history(pairs, seed=pairs, edit=plant)




#: Fields that differ between any two runs (ids, times) and say nothing about content.
_VOLATILE = {
    "timestamp",
    "seq",
    "trace_id",
    "span_id",
    "parent_span_id",
    "run_id",
    "parent_run_id",
    "duration_ms",
    "gen_ai.response.id",
    "link.span_id",
    "link.trace_id",
    "checkpoint_ns",
}


def _content(records: list[dict[str, Any]]) -> list[str]:
    """Each record's content (no ids, no times) as sorted JSON: two runs of the same work compare equal."""
    return sorted(
        json.dumps({k: v for k, v in r.items() if k not in _VOLATILE}, sort_keys=True) for r in records
    )


def _run(work: Any, dedup: bool, limits: Limits | None = None, **options: Any) -> CapturedRecords:
    with capture_records(resolve_refs=False, limits=limits) as records:
        work(AITraceHandler(dedup_messages=dedup, **options))
    return records


def _bytes(records: CapturedRecords) -> int:
    return sum(
        len(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode()) + 1 for r in records.raw
    )


def _refs_in(records: CapturedRecords) -> int:
    return sum(json.dumps(r).count('"$ref"') for r in records.raw)


def _text_of(records: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records)


def test_forty_turns_of_history_are_written_about_once_per_run() -> None:
    """A prebuilt ReAct agent with 40 earlier question/answer pairs: the run's records hold the history
    about once (at most three times its text), not once per node and LLM call."""
    history = _history(40)
    text = sum(len(m.content) for m in history)  # type: ignore[misc,arg-type]
    agent = react_agent()
    records = _run(
        lambda h: agent.invoke({"messages": [*history, HumanMessage("Where is A-1?")]}, {"callbacks": [h]}),
        True,
    )
    assert _bytes(records) <= 3 * text, (_bytes(records), text)
    # and what a reader gets back still has the whole conversation in the second LLM call's input
    resolved = resolve_refs(records.raw)
    second = [r for r in resolved if r.get("span_kind") == "llm" and r["event"] == "span_start"][-1]
    earlier = second["gen_ai.input.messages"][: len(history)]
    assert [m["parts"][0]["content"] for m in earlier] == [m.content for m in history]


def test_references_resolve_to_the_records_a_run_without_them_writes() -> None:
    """Every record, resolved, is the record the same run writes with dedup off: inputs, outputs, LLM input
    and output messages, the routing ``Send``\\ s (written as data, not repr)."""
    agent = react_agent()

    def work(handler: AITraceHandler) -> None:
        agent.invoke({"messages": [*_history(5), HumanMessage("Where is A-1?")]}, {"callbacks": [handler]})
        agent.invoke({"messages": [*_history(3), HumanMessage("And B-2?")]}, {"callbacks": [handler]})

    with_refs, without = _run(work, True), _run(work, False)
    assert _refs_in(with_refs) > 20
    assert _refs_in(without) == 0
    assert _content(resolve_refs(with_refs.raw)) == _content(without.raw)
    # capture_records (and CapturedRecords) resolve record by record, as they come, to the same
    assert _content(list(CapturedRecords(with_refs.raw))) == _content(without.raw)
    sends = [
        r["output"]
        for r in without.raw
        if r.get("span_name") == "should_continue" and r["event"] == "span_end"
    ]
    assert {
        "__type__": "Send",
        "node": "tools",
        "arg": {
            "tool_call": {
                "name": "lookup_order",
                "args": {"order_id": "A-1"},
                "id": "call_o11",
                "type": "tool_call",
            }
        },
    } in sends[0]
    with_refs.validate()


@pytest.mark.parametrize("hidden", [{"hide_inputs": True}, {"hide_outputs": True}])
def test_hidden_inputs_or_outputs_never_leave_a_reference_dangling(hidden: dict[str, bool]) -> None:
    agent = react_agent()

    def work(handler: AITraceHandler) -> None:
        agent.invoke({"messages": [*_history(4), HumanMessage("Where is A-1?")]}, {"callbacks": [handler]})

    with_refs, without = _run(work, True, **hidden), _run(work, False, **hidden)
    resolved = resolve_refs(with_refs.raw)
    assert "message not found" not in _text_of(resolved)
    assert _content(resolved) == _content(without.raw)


@pytest.mark.parametrize("redacting_first", [True, False])
def test_a_redacted_message_never_resolves_to_an_unredacted_one(redacting_first: bool) -> None:
    """Two handlers trace the same call in one trace, one redacting API keys and one not: the redacting
    handler's records, raw or resolved, never show the key, though the other handler wrote the same
    message (unredacted) first."""
    agent = react_agent()
    history = _history(6, secret=SECRET)
    with capture_records(resolve_refs=False) as records, aitrace_core.span("outer"):
        plain = AITraceHandler(redact_patterns=(), logger_name="plain")
        redacting = AITraceHandler(logger_name="redacting")
        agent.invoke(
            {"messages": [*history, HumanMessage("Where is A-1?")]},
            {"callbacks": [redacting, plain] if redacting_first else [plain, redacting]},
        )
    assert len({r["trace_id"] for r in records.raw}) == 1
    resolved = resolve_refs(records.raw)
    mine = [r for r in resolved if r["logger"] == "redacting"]
    theirs = [r for r in resolved if r["logger"] == "plain"]
    assert "message not found" not in _text_of(resolved)
    assert SECRET in _text_of(theirs)  # the other handler did write it
    assert "[REDACTED]" in _text_of(mine)
    assert SECRET not in _text_of(mine)
    assert SECRET not in _text_of([r for r in records.raw if r["logger"] == "redacting"])
    llm_inputs = [
        r["gen_ai.input.messages"]
        for r in mine
        if r.get("span_kind") == "llm" and "gen_ai.input.messages" in r
    ]
    assert len(llm_inputs) == 2
    assert all(len(m) == len(history) + 1 + 3 * i for i, m in enumerate(llm_inputs))


class _FanState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    answers: Annotated[list[str], operator.add]


def _fan_out_graph(branches: int) -> Any:
    model = FakeChatModel(respond=lambda msgs: f"part answer to {msgs[-1].content}")

    def route(state: _FanState) -> list[Send]:
        shared = HumanMessage("Context for every branch: " + " ".join(WORDS * 8))  # new, in every Send
        return [
            Send(
                "branch", {"messages": [*state["messages"], shared, HumanMessage(f"part {i}")], "answers": []}
            )
            for i in range(branches)
        ]

    def branch(state: _FanState) -> dict[str, Any]:
        answer = model.invoke(state["messages"])
        return {"answers": [str(answer.content)]}

    graph = StateGraph(_FanState)
    graph.add_node("branch", branch)
    graph.add_conditional_edges(START, route, ["branch"])
    graph.add_edge("branch", END)
    return graph.compile()


def test_parallel_send_branches_share_messages_without_dangling_references() -> None:
    """Eight ``Send`` branches in threads, each calling a model with the history plus a message made for all
    of them: whichever thread writes a message first, every reference resolves, to the same records as
    without references."""
    graph = _fan_out_graph(8)

    def work(handler: AITraceHandler) -> None:
        for n in range(4):
            graph.invoke(
                {"messages": _history(6 + n), "answers": []}, {"callbacks": [handler], "max_concurrency": 8}
            )

    with_refs, without = _run(work, True), _run(work, False)
    resolved = resolve_refs(with_refs.raw)
    assert "message not found" not in _text_of(resolved)
    assert _refs_in(with_refs) > 0
    assert _content(resolved) == _content(without.raw)
    assert _bytes(with_refs) < _bytes(without) / 2


def test_a_message_whose_first_record_was_cut_whole_is_not_referred_to() -> None:
    """A message first written in a record over the record size cap (re-encoded with tighter caps, so the
    message is cut there) is written in full again where it comes next, exactly as without references."""
    message = HumanMessage("long question " * 1_500)  # 21,000 characters: within max_chars
    model = FakeChatModel(responses=["an answer"])
    chain = RunnableLambda(lambda inp: inp["messages"]) | model

    def work(handler: AITraceHandler) -> None:
        chain.invoke({"messages": [message], "blob": ["x" * 60_000] * 3}, {"callbacks": [handler]})

    limits = Limits(max_record_bytes=100_000)
    with_refs, without = _run(work, True, limits), _run(work, False, limits)
    llm_start = [
        r for r in resolve_refs(with_refs.raw) if r.get("span_kind") == "llm" and r["event"] == "span_start"
    ]
    assert llm_start[0]["gen_ai.input.messages"][0]["parts"][0]["content"] == message.content
    assert _content(resolve_refs(with_refs.raw)) == _content(without.raw)


def test_per_trace_state_is_freed_when_the_root_run_ends() -> None:
    """The registry of written messages lives with the trace: after the run, nothing of it is left, and a
    new trace writes the same messages in full again."""
    agent = react_agent()
    handler = AITraceHandler()
    history = _history(3)
    with capture_records(resolve_refs=False) as records:
        agent.invoke({"messages": [*history, HumanMessage("Where is A-1?")]}, {"callbacks": [handler]})
        agent.invoke({"messages": [*history, HumanMessage("Where is A-1?")]}, {"callbacks": [handler]})
    assert handler.open_runs == 0
    traces: dict[str, list[dict[str, Any]]] = {}
    for r in records.raw:
        traces.setdefault(r["trace_id"], []).append(r)
    assert len(traces) == 2
    for recs in traces.values():  # each trace holds every history message in full, once
        full = _text_of(recs)
        assert all(full.count(json.dumps(m.content)[1:-1]) == 1 for m in history)
