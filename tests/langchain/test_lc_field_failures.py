"""A field the handler cannot read costs that field: the span is still written with all its other fields."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any
from uuid import uuid4

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult, LLMResult
from langgraph.graph import START, StateGraph
from lc_helpers import assert_all_closed
from typing_extensions import TypedDict

import aitrace_core
from aitrace_core import resolve_refs
from aitrace_core.testing import CapturedRecords, capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel


class _Unprintable:
    """A provider SDK object with a broken ``__str__``, used as a key of a content block: LangChain reads
    such a message fine (its text skips the block), aitrace cannot write the block."""

    def __str__(self) -> str:
        raise RuntimeError("cannot print this")

    __repr__ = __str__


def _odd_block() -> dict[Any, Any]:
    return {"type": "citation", _Unprintable(): "source"}


class _RaisingMapping(Mapping[str, Any]):
    """Usage metadata that raises on access (a lazy provider object whose backing call fails)."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("usage is not available")

    def __iter__(self) -> Iterator[str]:
        return iter(("input_tokens",))

    def __len__(self) -> int:
        return 1


class _ScriptedResult(FakeChatModel):
    """A chat model whose result is the given message, exactly as built (no copy, no filling in)."""

    message: Any = None

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **_: Any) -> ChatResult:
        info = {"finish_reason": "stop"}
        return ChatResult(generations=[ChatGeneration(message=self.message, generation_info=info)])


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aitrace.langchain"]


@pytest.mark.parametrize(
    "odd_fields",
    [
        {"content": [{"type": "text", "text": "fine text"}, _odd_block()], "tool_calls": []},
        {"content": "", "tool_calls": [("add", {"a": 1})]},  # tool calls as tuples, not dicts
    ],
    ids=["content-block", "tool-call-tuples"],
)
def test_an_odd_response_message_costs_only_the_output_messages(
    records: CapturedRecords, caplog: pytest.LogCaptureFixture, odd_fields: dict[str, Any]
) -> None:
    caplog.set_level(logging.WARNING, logger="aitrace.langchain")
    odd = AIMessage.model_construct(
        **odd_fields,
        id="resp-1",
        response_metadata={"model_name": "odd-model-2"},
        usage_metadata={"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
    )
    model = _ScriptedResult(message=odd)
    handler = AITraceHandler()
    out = model.invoke([HumanMessage("hi there")], {"callbacks": [handler]})
    assert out is odd  # the application gets its answer
    view = records.one("chat fake-chat-1")
    assert view.status == "ok"
    start, end = view.start or {}, view.end or {}
    assert start["gen_ai.input.messages"][0]["parts"][0]["content"] == "hi there"
    assert "gen_ai.output.messages" not in end  # the field that could not be read …
    # … and every other field of the end record
    assert end["gen_ai.response.model"] == "odd-model-2"
    assert end["gen_ai.response.id"] == "resp-1"
    assert end["gen_ai.response.finish_reasons"] == ["stop"]
    assert (end["gen_ai.usage.input_tokens"], end["gen_ai.usage.output_tokens"]) == (7, 3)
    assert handler.open_runs == 0
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "field extractor output_messages failed" in warnings[0]


def test_usage_that_raises_on_access_costs_only_the_usage(records: CapturedRecords) -> None:
    odd = AIMessage.model_construct(
        content="The answer is 42.",
        id="resp-2",
        response_metadata={"model_name": "gpt-4o"},
        usage_metadata=_RaisingMapping(),
        tool_calls=[],
    )
    _ScriptedResult(message=odd).invoke("question", {"callbacks": [AITraceHandler()]})
    end = records.one("chat fake-chat-1").end or {}
    assert not any(k.startswith("gen_ai.usage.") for k in end)  # usage (and the cost from it) left out
    assert end["gen_ai.output.messages"][0]["parts"] == [{"type": "text", "content": "The answer is 42."}]
    assert end["gen_ai.response.model"] == "gpt-4o"
    assert end["status"] == "ok"


def test_a_weird_llm_output_costs_only_what_is_read_from_it(records: CapturedRecords) -> None:
    """The callbacks driven directly with a result LangChain's validation would not let through."""
    handler = AITraceHandler()
    run_id = uuid4()
    handler.on_chat_model_start(
        {"name": "ChatOdd"},
        [[HumanMessage("hello")]],
        run_id=run_id,
        metadata={"ls_provider": "odd", "ls_model_name": "odd-1"},
    )
    message = AIMessage("hi back", usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3})
    result = LLMResult.model_construct(generations=[[ChatGeneration(message=message)]], llm_output=["weird"])
    handler.on_llm_end(result, run_id=run_id)
    view = records.one("chat odd-1")
    end = view.end or {}
    assert "gen_ai.response.model" not in end  # the message names no model: it would come from llm_output
    assert end["gen_ai.output.messages"][0]["parts"][0]["content"] == "hi back"
    assert end["gen_ai.usage.output_tokens"] == 2
    assert (view.start or {})["gen_ai.provider.name"] == "odd"


def test_an_odd_input_message_costs_only_the_input_messages(records: CapturedRecords) -> None:
    odd_question = HumanMessage.model_construct(content=["look:", _odd_block()], type="human")
    model = FakeChatModel(responses=["I could not read that."])
    model.invoke([HumanMessage("first"), odd_question], {"callbacks": [AITraceHandler()]})
    view = records.one("chat fake-chat-1")
    start, end = view.start or {}, view.end or {}
    assert "gen_ai.input.messages" not in start
    assert (start["gen_ai.provider.name"], start["gen_ai.request.model"]) == ("fake", "fake-chat-1")
    assert start["gen_ai.request.temperature"] == 0.0
    assert end["gen_ai.output.messages"][0]["parts"][0]["content"] == "I could not read that."


class _State(TypedDict):
    asked: list[BaseMessage]


def test_a_failed_field_leaves_no_reference_to_what_it_did_not_write() -> None:
    """Messages a field shaped before it failed were never written: later records hold them in full."""
    greeting = HumanMessage("hello, remember me", id="m-greeting")
    model = FakeChatModel(responses=["ok"])

    def ask(state: _State) -> dict[str, Any]:
        model.invoke([greeting, HumanMessage.model_construct(content=[_odd_block()], type="human")])
        return {"asked": [greeting]}  # the same message object, written again by the node's end record

    graph_builder = StateGraph(_State)
    graph_builder.add_node("ask", ask)
    graph_builder.add_edge(START, "ask")
    graph = graph_builder.compile(name="asker")
    with capture_records(resolve_refs=False) as records:
        graph.invoke({"asked": []}, {"callbacks": [AITraceHandler()]})
    resolved = resolve_refs(records.raw)
    assert not any("message not found" in str(r) for r in resolved)  # what a reader sees for a lost one
    node_end = next(r for r in resolved if r.get("span_name") == "ask" and r["event"] == "span_end")
    assert node_end["output"]["asked"][0]["parts"][0]["content"] == "hello, remember me"
    assert_all_closed(CapturedRecords(records.raw))


def test_failures_are_counted_and_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aitrace.langchain")
    odd = AIMessage.model_construct(content=[_odd_block()], tool_calls=[], response_metadata={})
    handler = AITraceHandler()
    with capture_records():
        for _ in range(3):
            _ScriptedResult(message=odd).invoke("q", {"callbacks": [handler]})
        aitrace_core.flush(2.0)
    assert handler.guard.failures == 3
    assert len(_warnings(caplog)) == 1


def test_a_failing_callback_never_raises_and_is_named_in_the_warning(
    records: CapturedRecords, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aitrace.langchain")
    handler = AITraceHandler()
    handler.on_custom_event("progress", {_Unprintable(): 1}, run_id=uuid4())  # returns, never raises
    handler.on_custom_event("progress", {_Unprintable(): 2}, run_id=uuid4())
    assert handler.guard.failures == 2
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "callback on_custom_event failed" in warnings[0]
